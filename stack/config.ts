import { BlockList, isIP } from "node:net";

import type * as pulumi from "@pulumi/pulumi";

// The API's own reading of sizes (CommonJS, so this CommonJS program can load it under ts-node).
import * as byteSizes from "../api/src/byte-size.js";
import * as backlogLimits from "../api/src/activities/backlog-limits.js";
import * as callbackPolicy from "../api/src/callbacks/policy.js";
import { readExposure, type ExposureConfig } from "./exposure/config.js";
import { KUBELOGIN_MODES, type KubeloginMode } from "./kubelogin.js";

/**
 * The stack's configuration, read once from Pulumi config into one typed, validated object.
 *
 * `loadConfig` is a pure function of a config reader (a `pulumi.Config` in the program, a plain
 * object in the tests), so every configuration shape can be checked without the Pulumi engine.
 * Every key is documented in Pulumi.dev.yaml and in docs/deploy.md ("Stack configuration").
 */

/** What the program reads config from: `new pulumi.Config()` satisfies it. */
export interface ConfigReader {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The container port, fixed: the image, the probes and the Service all use it. */
export const API_PORT = 5002;
/** The API's metrics port: scraped inside the cluster, exposed by no Service or route. */
export const METRICS_PORT = 9464;

export type AuthMode = "none" | "basic" | "entra";
export type AzureCloud = "public" | "usgovernment" | "china";
export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";

/**
 * The API's non-secret settings, keyed by the environment variable the API reads. The ConfigMap
 * is built from this object as it is (see `toEnvironment`), so no name is listed twice.
 * `undefined` means "not set": the API's own default applies.
 */
export interface ApiSettings {
  PORT: number;
  HOST: string;
  METRICS_PORT: number;
  LOG_LEVEL: LogLevel;
  BODY_LIMIT: string;
  DRAIN_TIMEOUT_MS: number;
  JOB_TIMEOUT_MS: number;
  MAX_CONCURRENT_JOBS: number;
  /** Jobs that may wait for a free slot (0: none wait, a full runner answers 429); unset = the API's default. */
  MAX_QUEUED_JOBS?: number;
  /** Callbacks that may wait for delivery at once; unset = the API's default. */
  MAX_PENDING_CALLBACKS?: number;
  /** The largest job output the API sends back (a size such as `4mb`); unset = the API's default (ADF's ~4 MB). */
  MAX_OUTPUT_BYTES?: string;
  /** Bytes webhook work may hold (a size such as `64mb`); unset = the API's default. Raise it with memoryLimit. */
  MAX_QUEUED_BYTES?: string;
  /** Host suffixes allowed for callBackUri; unset = the API's default (Data Factory/Synapse domains). */
  CALLBACK_ALLOWED_HOSTS?: string[];
  CALLBACK_ALLOW_INSECURE: boolean;
  /** One origin `http://<ip>:<port>` callbacks may reach over http though private (target kubeconfig only). */
  CALLBACK_TEST_RECEIVER?: string;
  /** Callback delivery tuning; unset = the API's defaults. */
  CALLBACK_TIMEOUT_MS?: number;
  CALLBACK_MAX_ATTEMPTS?: number;
  CALLBACK_RETRY_BASE_MS?: number;
  /** The Azure cloud (Entra ID issuers and keys, default callback hosts); unset = the API's default, public. */
  AZURE_CLOUD?: AzureCloud;
  AUTH_MODE: AuthMode;
  BASIC_AUTH_USERNAME?: string;
  ENTRA_TENANT_ID?: string;
  ENTRA_AUDIENCE?: string[];
  /** Object ids allowed to call; the Data Factory's managed identity is added when it is deployed. */
  ENTRA_ALLOWED_CALLERS?: string[];
  /** App roles every caller's token must carry in `roles`. */
  ENTRA_REQUIRED_ROLES?: string[];
  ENTRA_JWKS_URI?: string;
}

/** The API's secret settings, keyed by environment variable; they go to a Kubernetes Secret. */
export interface ApiSecrets {
  BASIC_AUTH_PASSWORD?: pulumi.Output<string>;
}

/** Where the cluster and the registry come from. */
export type Target =
  | {
      /** Create a resource group, an ACR (Basic) and an AKS cluster. */
      kind: "new";
      location: string;
      resourceGroupName?: string;
      registryName?: string;
      clusterName?: string;
      nodeCount: number;
      nodeVmSize: string;
      kubernetesVersion?: string;
      clusterCredentials: ClusterCredentials;
    }
  | {
      /** Use an existing ACR and an existing AKS cluster. */
      kind: "existing";
      location: string;
      registryName: string;
      registryResourceGroup: string;
      clusterName: string;
      clusterResourceGroup: string;
      /** Create the AcrPull role assignment for the kubelet identity (off when already attached). */
      grantAcrPull: boolean;
      clusterCredentials: ClusterCredentials;
    }
  | {
      /** Any cluster by kubeconfig and any registry: no Azure at all (unless dataFactory is on). */
      kind: "kubeconfig";
      location: string;
      kubeconfig: pulumi.Output<string>;
      kubeContext?: string;
      registryServer: string;
      registryUsername?: string;
      registryPassword?: pulumi.Output<string>;
    };

/**
 * How the Kubernetes provider signs in to AKS: the admin kubeconfig (local accounts), or the user
 * kubeconfig through kubelogin in one of its non-interactive modes (clusters without local accounts).
 */
export type ClusterCredentials = "admin" | KubeloginMode;

/**
 * How `docker push` authenticates: the deploying identity's Entra token exchanged for an ACR token
 * (entra), the ACR admin user (admin), explicit credentials (kubeconfig target), or the host's docker login.
 */
export type RegistryAuth = "entra" | "admin" | "credentials" | "docker-login";

export interface ImageConfig {
  /** Repository inside the registry, e.g. `adf-webhook-api`. */
  repository: string;
  tag: string;
  registryAuth: RegistryAuth;
  /**
   * The Node.js base image the Dockerfile builds on (its NODE_IMAGE build argument); unset = the
   * Dockerfile's own pinned default. For registries that mirror Docker Hub, e.g. `myacr.azurecr.io/library/node:24-bookworm-slim`.
   */
  baseImage?: string;
}

export interface AppConfig {
  name: string;
  namespace: string;
  replicas: number;
  resources: { cpuRequest: string; cpuLimit: string; memoryRequest: string; memoryLimit: string };
  fsGroup?: number;
  hpa?: { minReplicas: number; maxReplicas: number; cpuUtilization: number };
}

export interface DataFactoryConfig {
  name?: string;
  /** Resource group for the factory; unset = the group the stack creates (new) or clusterResourceGroup (existing), see program.ts. */
  resourceGroupName?: string;
  location: string;
}

export interface StackConfig {
  target: Target;
  image: ImageConfig;
  app: AppConfig;
  api: ApiSettings;
  apiSecrets: ApiSecrets;
  /** How the API is reached: stack/exposure/config.ts. */
  exposure: ExposureConfig;
  dataFactory?: DataFactoryConfig;
}

const { BACKLOG_DEFAULTS } = backlogLimits;
const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const QUANTITY = /^\d+(\.\d+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$/;
/** A callback host suffix: DNS labels, two at least, optionally after `.` or `*.`. */
const HOST_SUFFIX = /^(\*?\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/i;

function isHttpsUrlWithoutUser(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "https:" && !url.username && !url.password;
  } catch {
    return false;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Reads and validates the whole configuration. Throws one ConfigError listing every problem, each
 * naming its key (`replicas: must be ...`).
 */
export function loadConfig(config: ConfigReader): StackConfig {
  const problems: string[] = [];
  const fail = (key: string, message: string, got?: string): undefined => {
    problems.push(`${key}: ${message}${got === undefined ? "" : ` (got ${JSON.stringify(got)})`}`);
    return undefined;
  };
  const raw = (key: string): string | undefined => {
    const value = config.get(key)?.trim();
    return value ? value : undefined; // an empty value means "not set"
  };
  const str = (key: string, fallback?: string): string | undefined => raw(key) ?? fallback;
  const required = (key: string, why: string): string => {
    const value = raw(key);
    if (value === undefined) fail(key, `is required ${why}`);
    return value ?? "";
  };
  const int = (key: string, fallback: number, min: number, max: number): number => {
    const value = raw(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) fail(key, `must be a whole number between ${min} and ${max}`, value);
    return n;
  };
  const optionalInt = (key: string, min: number, max: number): number | undefined =>
    raw(key) === undefined ? undefined : int(key, 0, min, max);
  const bool = (key: string, fallback: boolean): boolean => {
    const value = raw(key);
    if (value === undefined) return fallback;
    if (value !== "true" && value !== "false") fail(key, "must be true or false", value);
    return value === "true";
  };
  const oneOf = <T extends string>(key: string, values: readonly T[], fallback: T): T => {
    const value = raw(key);
    if (value === undefined) return fallback;
    if (!(values as readonly string[]).includes(value)) return fail(key, `must be one of ${values.join(", ")}`, value) ?? fallback;
    return value as T;
  };
  const list = (key: string, check?: (item: string) => boolean, what?: string): string[] | undefined => {
    const value = raw(key);
    if (value === undefined) return undefined;
    const items = value.split(",").map((item) => item.trim()).filter(Boolean);
    const bad = check ? items.filter((item) => !check(item)) : [];
    if (bad.length > 0) fail(key, `must be a comma-separated list of ${what}`, bad.join(","));
    return items.length > 0 ? items : undefined;
  };
  const quantity = (key: string, fallback: string): string => {
    const value = str(key, fallback) ?? fallback;
    if (!QUANTITY.test(value)) fail(key, "must be a Kubernetes quantity such as 250m, 1, 128Mi or 1Gi", value);
    return value;
  };
  const secret = (key: string): pulumi.Output<string> | undefined => config.getSecret(key);

  // --- target -----------------------------------------------------------------------------------
  const kind = oneOf("target", ["new", "existing", "kubeconfig"] as const, "new");
  const location = str("location", "westeurope") ?? "westeurope";
  let target: Target;
  if (kind === "new") {
    const registryName = str("registryName");
    if (registryName !== undefined && !/^[a-zA-Z0-9]{5,50}$/.test(registryName)) {
      fail("registryName", "must be 5 to 50 letters or digits (an Azure Container Registry name)", registryName);
    }
    target = {
      kind,
      location,
      resourceGroupName: str("resourceGroupName"),
      registryName,
      clusterName: str("clusterName"),
      // AKS's own limit: at most 1000 nodes in a Virtual Machine Scale Sets node pool.
      nodeCount: int("nodeCount", 2, 1, 1000),
      nodeVmSize: str("nodeVmSize", "Standard_D2s_v5") ?? "Standard_D2s_v5",
      kubernetesVersion: str("kubernetesVersion"),
      clusterCredentials: oneOf("clusterCredentials", ["admin", ...KUBELOGIN_MODES] as const, "admin"),
    };
  } else if (kind === "existing") {
    const why = "when target is existing";
    target = {
      kind,
      location,
      registryName: required("registryName", why),
      registryResourceGroup: required("registryResourceGroup", why),
      clusterName: required("clusterName", why),
      clusterResourceGroup: required("clusterResourceGroup", why),
      grantAcrPull: bool("grantAcrPull", true),
      clusterCredentials: oneOf("clusterCredentials", ["admin", ...KUBELOGIN_MODES] as const, "admin"),
    };
  } else {
    const why = "when target is kubeconfig";
    const kubeconfig = secret("kubeconfig");
    if (kubeconfig === undefined) fail("kubeconfig", `is required ${why} (pulumi config set --secret kubeconfig "$(cat ~/.kube/config)")`);
    const registryUsername = str("registryUsername");
    const registryPassword = secret("registryPassword");
    if ((registryUsername === undefined) !== (registryPassword === undefined)) {
      fail(registryUsername === undefined ? "registryUsername" : "registryPassword", "registryUsername and registryPassword go together: set both or neither");
    }
    target = {
      kind,
      location,
      kubeconfig: kubeconfig as pulumi.Output<string>,
      kubeContext: str("kubeContext"),
      registryServer: required("registryServer", why),
      registryUsername,
      registryPassword,
    };
  }

  // --- image ------------------------------------------------------------------------------------
  let registryAuth: RegistryAuth;
  if (target.kind === "kubeconfig") {
    if (raw("clusterCredentials") !== undefined) fail("clusterCredentials", "applies to AKS only; with target kubeconfig the kubeconfig says how to sign in");
    if (raw("registryAuth") !== undefined) fail("registryAuth", "applies to an Azure Container Registry only; with target kubeconfig set registryUsername/registryPassword or rely on docker login");
    registryAuth = target.registryUsername !== undefined ? "credentials" : "docker-login";
  } else {
    registryAuth = oneOf("registryAuth", ["entra", "admin", "docker-login"] as const, "entra");
  }
  const repository = str("imageRepository", "adf-webhook-api") ?? "adf-webhook-api";
  if (!/^[a-z0-9]+([._/-][a-z0-9]+)*$/.test(repository)) fail("imageRepository", "must be a lower-case repository name such as adf-webhook-api", repository);
  const tag = str("imageTag", "latest") ?? "latest";
  if (!/^[\w][\w.-]{0,127}$/.test(tag)) fail("imageTag", "must be a valid image tag", tag);
  const baseImage = str("baseImage", undefined);
  // An image reference: [registry[:port]/]path[:tag][@sha256:digest], no spaces or shell syntax.
  if (baseImage !== undefined && !/^[a-z0-9]+([._:-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[\w][\w.-]{0,127})?(@sha256:[a-f0-9]{64})?$/.test(baseImage)) {
    fail("baseImage", "must be an image reference such as myacr.azurecr.io/library/node:24-bookworm-slim", baseImage);
  }
  const image: ImageConfig = { repository, tag, registryAuth, ...(baseImage !== undefined && { baseImage }) };

  // --- app --------------------------------------------------------------------------------------
  // The HPA's range (hpaMinReplicas/hpaMaxReplicas): the pod count has one range whether the HPA is on or off.
  const replicas = int("replicas", 2, 1, 100);
  const hpaEnabled = bool("hpaEnabled", false);
  let hpa: AppConfig["hpa"];
  if (hpaEnabled) {
    const minReplicas = int("hpaMinReplicas", replicas, 1, 100);
    const maxReplicas = int("hpaMaxReplicas", Math.max(5, minReplicas), 1, 100);
    if (maxReplicas < minReplicas) fail("hpaMaxReplicas", `must be at least hpaMinReplicas (${minReplicas})`, String(maxReplicas));
    hpa = { minReplicas, maxReplicas, cpuUtilization: int("hpaCpuUtilization", 70, 1, 100) };
  }
  const namespace = str("namespace", "adf-webhook") ?? "adf-webhook";
  const name = str("appName", "adf-webhook-api") ?? "adf-webhook-api";
  const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
  if (!dnsLabel.test(namespace)) fail("namespace", "must be a DNS label (lower-case letters, digits and '-')", namespace);
  if (!dnsLabel.test(name)) fail("appName", "must be a DNS label (lower-case letters, digits and '-')", name);
  const app: AppConfig = {
    name,
    namespace,
    replicas,
    resources: {
      cpuRequest: quantity("cpuRequest", "100m"),
      cpuLimit: quantity("cpuLimit", "1"),
      memoryRequest: quantity("memoryRequest", "128Mi"),
      memoryLimit: quantity("memoryLimit", "256Mi"),
    },
    fsGroup: optionalInt("fsGroup", 1, 65535),
    hpa,
  };

  // --- the API's settings -------------------------------------------------------------------------
  const authMode = oneOf("authMode", ["none", "basic", "entra"] as const, "none");
  const bodyLimit = str("bodyLimit", "1mb") ?? "1mb";
  const bodyLimitBytes = byteSizes.parseByteSize(bodyLimit);
  if (bodyLimitBytes === undefined) fail("bodyLimit", "must be a size such as 512kb, 1mb or 1048576", bodyLimit);
  else if (bodyLimitBytes < 1) fail("bodyLimit", "must be at least 1 byte", bodyLimit);
  // The API holds webhook work within MAX_QUEUED_BYTES, which must hold the largest body and output: a
  // setting it would refuse must fail here, not as a pod that never starts.
  const maxOutputBytes = str("maxOutputBytes");
  const outputBytes = maxOutputBytes === undefined ? BACKLOG_DEFAULTS.MAX_OUTPUT_BYTES : byteSizes.parseByteSize(maxOutputBytes);
  if (outputBytes === undefined) fail("maxOutputBytes", "must be a size such as 4mb or 4000000", maxOutputBytes);
  else if (outputBytes < 1) fail("maxOutputBytes", "must be at least 1 byte", maxOutputBytes);
  const maxQueuedBytes = str("maxQueuedBytes");
  const queuedBytes = maxQueuedBytes === undefined ? BACKLOG_DEFAULTS.MAX_QUEUED_BYTES : byteSizes.parseByteSize(maxQueuedBytes);
  if (queuedBytes === undefined) fail("maxQueuedBytes", "must be a size such as 32mb or 33554432", maxQueuedBytes);
  else if (queuedBytes < 1) fail("maxQueuedBytes", "must be at least 1 byte", maxQueuedBytes);
  else {
    if (outputBytes !== undefined && outputBytes > queuedBytes) {
      // Named after what the user set: the budget (output at its default), or the output.
      if (maxOutputBytes === undefined) fail("maxQueuedBytes", `must be at least ${outputBytes} bytes (maxOutputBytes, the API's MAX_OUTPUT_BYTES)`, maxQueuedBytes);
      else fail("maxOutputBytes", `must not exceed maxQueuedBytes (${queuedBytes} bytes)`, maxOutputBytes);
    }
    if (bodyLimitBytes !== undefined && bodyLimitBytes > queuedBytes) {
      fail("bodyLimit", `must not exceed maxQueuedBytes (${queuedBytes} bytes; raise it with memoryLimit)`, bodyLimit);
    }
  }
  const callbackAllowInsecure = bool("callbackAllowInsecure", false);
  if (callbackAllowInsecure && target.kind !== "kubeconfig") {
    fail("callbackAllowInsecure", "allows http:// callbacks, and callbacks to loopback addresses, and is for local clusters only (target kubeconfig); never in a real cluster");
  }
  const callbackTestReceiver = str("callbackTestReceiver");
  if (callbackTestReceiver !== undefined) {
    if (target.kind !== "kubeconfig") {
      fail("callbackTestReceiver", "lets callbacks reach one private address over plain http, for a rehearsal on a local cluster only (target kubeconfig); never in a real cluster");
    } else if (!isTestReceiver(callbackTestReceiver)) {
      fail("callbackTestReceiver", "must be one origin http://<ip>:<port>, the ip private or loopback (the ADF emulator's receiver, as the pods reach it)", callbackTestReceiver);
    }
  }
  const api: ApiSettings = {
    PORT: API_PORT,
    HOST: "0.0.0.0",
    METRICS_PORT,
    LOG_LEVEL: oneOf("logLevel", LOG_LEVELS, "info"),
    BODY_LIMIT: bodyLimit,
    // The API's own bounds (api/src/config.ts): what it would accept, the stack accepts.
    DRAIN_TIMEOUT_MS: int("drainTimeoutMs", 20_000, 0, 3_600_000),
    JOB_TIMEOUT_MS: int("jobTimeoutMs", 600_000, 1, 7 * 86_400_000),
    MAX_CONCURRENT_JOBS: int("maxConcurrentJobs", 100, 1, 100_000),
    MAX_QUEUED_JOBS: optionalInt("maxQueuedJobs", 0, 1_000_000),
    MAX_PENDING_CALLBACKS: optionalInt("maxPendingCallbacks", 1, 1_000_000),
    // As the API judges them: DNS names of two labels at least (a bare TLD would allow every host under it).
    CALLBACK_ALLOWED_HOSTS: list("callbackAllowedHosts", (h) => HOST_SUFFIX.test(h), "host names or suffixes of two labels at least"),
    CALLBACK_ALLOW_INSECURE: callbackAllowInsecure,
    CALLBACK_TIMEOUT_MS: optionalInt("callbackTimeoutMs", 1, 600_000),
    CALLBACK_MAX_ATTEMPTS: optionalInt("callbackMaxAttempts", 1, 100),
    CALLBACK_RETRY_BASE_MS: optionalInt("callbackRetryBaseMs", 0, 600_000),
    AUTH_MODE: authMode,
  };
  if (callbackTestReceiver !== undefined) api.CALLBACK_TEST_RECEIVER = callbackTestReceiver;
  if (maxQueuedBytes !== undefined) api.MAX_QUEUED_BYTES = maxQueuedBytes;
  if (maxOutputBytes !== undefined) api.MAX_OUTPUT_BYTES = maxOutputBytes;
  if (raw("azureCloud") !== undefined) api.AZURE_CLOUD = oneOf("azureCloud", ["public", "usgovernment", "china"] as const, "public");
  const apiSecrets: ApiSecrets = {};
  if (authMode === "basic") {
    api.BASIC_AUTH_USERNAME = required("basicAuthUsername", "when authMode is basic");
    apiSecrets.BASIC_AUTH_PASSWORD = secret("basicAuthPassword");
    if (apiSecrets.BASIC_AUTH_PASSWORD === undefined) {
      fail("basicAuthPassword", "is required when authMode is basic (pulumi config set --secret basicAuthPassword <password>)");
    }
  } else if (authMode === "entra") {
    const tenant = required("entraTenantId", "when authMode is entra");
    if (tenant && !UUID.test(tenant)) fail("entraTenantId", "must be a tenant id (a GUID)", tenant);
    api.ENTRA_TENANT_ID = tenant;
    api.ENTRA_AUDIENCE = list("entraAudience");
    if (api.ENTRA_AUDIENCE === undefined) fail("entraAudience", "is required when authMode is entra (the App ID URI or client id the tokens are issued for)");
    api.ENTRA_ALLOWED_CALLERS = list("entraAllowedCallers", (id) => UUID.test(id), "object ids (GUIDs)");
    const requiredRoles = list("entraRequiredRoles");
    if (requiredRoles !== undefined) api.ENTRA_REQUIRED_ROLES = requiredRoles;
    api.ENTRA_JWKS_URI = str("entraJwksUri");
    // Judged on the parsed URL, as the API does: `https://login.microsoftonline.com@evil.example/` is evil.example.
    if (api.ENTRA_JWKS_URI !== undefined && !isHttpsUrlWithoutUser(api.ENTRA_JWKS_URI)) {
      fail("entraJwksUri", "must be an https:// URL without a user or password", api.ENTRA_JWKS_URI);
    }
  }

  // --- exposure -----------------------------------------------------------------------------------
  const exposure = readExposure({ raw, bool, oneOf, list, fail }, { targetKind: target.kind, location, authMode });

  // --- Data Factory -------------------------------------------------------------------------------
  let dataFactory: DataFactoryConfig | undefined;
  if (bool("dataFactory", false)) {
    if (exposure.mode === "cluster") {
      fail("dataFactory", "the sample pipeline calls the API from Azure and needs a public endpoint: set exposure to https (or loadbalancer)");
    }
    const resourceGroupName = str("dataFactoryResourceGroup");
    if (target.kind === "kubeconfig" && resourceGroupName === undefined) {
      fail("dataFactoryResourceGroup", "is required when dataFactory is on with target kubeconfig (an existing resource group for the factory)");
    }
    dataFactory = { name: str("dataFactoryName"), resourceGroupName, location: str("dataFactoryLocation", location) ?? location };
  } else if (authMode === "entra" && api.ENTRA_ALLOWED_CALLERS === undefined) {
    fail("entraAllowedCallers", "is required when authMode is entra and dataFactory is off (the object ids allowed to call)");
  }

  if (problems.length > 0) {
    throw new ConfigError(`Invalid stack configuration:\n  - ${problems.join("\n  - ")}\nSee Pulumi.dev.yaml for every key.`);
  }
  return { target, image, app, api, apiSecrets, exposure, dataFactory };
}

/** Private and loopback ranges: where a local cluster's rehearsal receiver can be (the API accepts these). */
const TEST_RECEIVER_RANGES = new BlockList();
for (const [network, prefix, type] of [
  ["10.0.0.0", 8, "ipv4"],
  ["172.16.0.0", 12, "ipv4"],
  ["192.168.0.0", 16, "ipv4"],
  ["100.64.0.0", 10, "ipv4"],
  ["127.0.0.0", 8, "ipv4"],
  ["fc00::", 7, "ipv6"],
  ["::1", 128, "ipv6"],
] as const) {
  TEST_RECEIVER_RANGES.addSubnet(network, prefix, type);
}

/** `http://<ip>:<port>` and nothing else, the ip private or loopback: stricter than the API's own check. */
function isTestReceiver(value: string): boolean {
  const form = /^http:\/\/(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})\/?$/.exec(value);
  const host = form?.[1]?.replace(/^\[|\]$/g, "") ?? "";
  const version = isIP(host);
  if (!form || version === 0 || Number(form[2]) < 1 || Number(form[2]) > 65535) return false;
  return TEST_RECEIVER_RANGES.check(host, version === 6 ? "ipv6" : "ipv4");
}

/** The environment variables of a settings object: unset values dropped, lists comma-joined. */
export function toEnvironment(settings: object): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    env[key] = Array.isArray(value) ? value.join(",") : String(value);
  }
  return env;
}

/**
 * preStop pause + the API's drain + its wrap-up + a margin: what Kubernetes must wait before SIGKILL. The
 * wrap-up (after DRAIN_TIMEOUT_MS: unfinished jobs stopped, every callback owed one last attempt) is the
 * API's own sizing, from the callback timeout and the most work a pod holds (wrapUpMs in
 * api/src/callbacks/policy.ts); a grace period shorter than both would lose callbacks to SIGKILL.
 */
export const PRE_STOP_SECONDS = 5;
export const TERMINATION_MARGIN_SECONDS = 5;
export function terminationGracePeriodSeconds(
  api: Pick<ApiSettings, "DRAIN_TIMEOUT_MS" | "MAX_CONCURRENT_JOBS" | "MAX_QUEUED_JOBS" | "MAX_PENDING_CALLBACKS" | "CALLBACK_TIMEOUT_MS">,
): number {
  const wrapUpMs = callbackPolicy.wrapUpMs({
    CALLBACK_TIMEOUT_MS: api.CALLBACK_TIMEOUT_MS,
    MAX_CONCURRENT_JOBS: api.MAX_CONCURRENT_JOBS,
    MAX_QUEUED_JOBS: api.MAX_QUEUED_JOBS ?? BACKLOG_DEFAULTS.MAX_QUEUED_JOBS,
    MAX_PENDING_CALLBACKS: api.MAX_PENDING_CALLBACKS ?? BACKLOG_DEFAULTS.MAX_PENDING_CALLBACKS,
  });
  return PRE_STOP_SECONDS + Math.ceil(api.DRAIN_TIMEOUT_MS / 1000) + Math.ceil(wrapUpMs / 1000) + TERMINATION_MARGIN_SECONDS;
}
