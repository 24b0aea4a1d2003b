import type * as pulumi from "@pulumi/pulumi";

import { CALLBACK_SOCKETS_PER_HOST } from "../../api/src/callbacks/policy.js";
import { parseSettings, SECRET_SETTINGS, SETTING_DEFAULTS, type SettingName, type Settings } from "../../api/src/settings.js";
import { stopSeconds, TERMINATION_MARGIN_SECONDS } from "../workload/index.js";
import { CONTAINER_APPS_LIMITS } from "./container-apps-limits.js";
import type { TargetKind } from "./target.js";

/**
 * The API's settings as stack keys. The stack keeps no rule of its own about them: it maps each key to
 * the environment variable the API reads, checks the values with the API's own schema
 * (api/src/settings.ts) and reports each problem under the key the user typed. What it adds is what only
 * the stack knows: which target a setting is safe on.
 */

/** The stack's key for each API setting it passes on, and the environment variable that carries it. */
const COMMON_KEYS = {
  logLevel: "LOG_LEVEL",
  bodyLimit: "BODY_LIMIT",
  drainTimeoutMs: "DRAIN_TIMEOUT_MS",
  jobTimeoutMs: "JOB_TIMEOUT_MS",
  maxConcurrentJobs: "MAX_CONCURRENT_JOBS",
  maxQueuedJobs: "MAX_QUEUED_JOBS",
  maxPendingCallbacks: "MAX_PENDING_CALLBACKS",
  maxOutputBytes: "MAX_OUTPUT_BYTES",
  maxQueuedBytes: "MAX_QUEUED_BYTES",
  azureCloud: "AZURE_CLOUD",
  callbackAllowedHosts: "CALLBACK_ALLOWED_HOSTS",
  callbackAllowInsecure: "CALLBACK_ALLOW_INSECURE",
  callbackTestReceiver: "CALLBACK_TEST_RECEIVER",
  callbackTimeoutMs: "CALLBACK_TIMEOUT_MS",
  callbackMaxAttempts: "CALLBACK_MAX_ATTEMPTS",
  callbackRetryBaseMs: "CALLBACK_RETRY_BASE_MS",
  authMode: "AUTH_MODE",
} as const satisfies Record<string, SettingName>;
/** Passed on with that authMode only: another mode's keys mean nothing to the pods. */
const AUTH_MODE_KEYS = {
  basic: { basicAuthUsername: "BASIC_AUTH_USERNAME", basicAuthPassword: "BASIC_AUTH_PASSWORD" },
  entra: {
    entraTenantId: "ENTRA_TENANT_ID",
    entraAudience: "ENTRA_AUDIENCE",
    entraAllowedCallers: "ENTRA_ALLOWED_CALLERS",
    entraRequiredRoles: "ENTRA_REQUIRED_ROLES",
    entraJwksUri: "ENTRA_JWKS_URI",
  },
} as const satisfies Record<string, Record<string, SettingName>>;

export const API_SETTING_KEYS: Readonly<Record<string, SettingName>> = { ...COMMON_KEYS, ...AUTH_MODE_KEYS.basic, ...AUTH_MODE_KEYS.entra };

/** The stack keys that are secrets: the API's secret settings. */
export const API_SECRET_KEYS = Object.keys(API_SETTING_KEYS).filter((key) => SECRET_SETTINGS.has(API_SETTING_KEYS[key] as SettingName));

/** Fixed by the stack, at the API's defaults: the image's ports, the probes and the scrape annotations use them. */
const FIXED: readonly SettingName[] = ["PORT", "HOST", "METRICS_PORT"];
/** In the pods' environment even when not set (as the API's default), as they always were; the others are left to the API. */
const ALWAYS_WRITTEN: readonly SettingName[] = [...FIXED, "LOG_LEVEL", "BODY_LIMIT", "DRAIN_TIMEOUT_MS", "JOB_TIMEOUT_MS", "MAX_CONCURRENT_JOBS", "CALLBACK_ALLOW_INSECURE", "AUTH_MODE"];

export interface ApiSettings {
  /** As the API reads them, defaults applied (secret settings left out: see `secrets`). */
  settings: Settings;
  /** The pods' environment, secrets aside, as the stack writes it (lists comma-joined, sizes as typed). */
  environment: Partial<Record<SettingName, string>>;
  /** The secret settings, for a Kubernetes Secret. */
  secrets: Partial<Record<SettingName, pulumi.Output<string>>>;
}

export interface SettingProblem {
  key: string;
  message: string;
}

/**
 * Reads the API's settings from the stack's keys (`read`: a key's value as typed, a Pulumi secret for a
 * secret key, undefined when not set) and checks them with the API's schema; then the stack's rules.
 */
export function readApiSettings(read: (key: string) => unknown, targetKind: TargetKind | undefined): { api?: ApiSettings; problems: SettingProblem[] } {
  const authMode = read("authMode");
  const keys: Record<string, SettingName> = { ...COMMON_KEYS, ...(authMode === "basic" || authMode === "entra" ? AUTH_MODE_KEYS[authMode] : {}) };
  const keyOf = new Map(Object.entries(keys).map(([key, name]) => [name, key]));

  const typed: Partial<Record<SettingName, string>> = {};
  const secrets: ApiSettings["secrets"] = {};
  for (const name of FIXED) typed[name] = SETTING_DEFAULTS[name];
  for (const [key, name] of Object.entries(keys)) {
    const value = read(key);
    if (value === undefined) continue;
    if (SECRET_SETTINGS.has(name)) {
      // Secrets stay Pulumi secrets; the API's rules judge only whether one is set.
      secrets[name] = value as pulumi.Output<string>;
      typed[name] = "[secret]";
    } else {
      typed[name] = value as string;
    }
  }

  const problems: SettingProblem[] = [];
  // The API's messages name its variables: the user reads them as the keys they typed.
  const asKeys = (message: string) => message.replace(/\b[A-Z][A-Z0-9_]+\b/g, (name) => keyOf.get(name as SettingName) ?? name);
  const { settings, problems: refused } = parseSettings(typed);
  for (const { name, message } of refused ?? []) {
    const key = keyOf.get(name);
    if (!key) throw new Error(`the API refused ${name}, which the stack sets itself: ${message}`);
    problems.push({ key, message: asKeys(message) });
  }

  // Safe on a local cluster only.
  if (targetKind !== undefined && targetKind !== "kubeconfig") {
    if (read("callbackAllowInsecure") === "true") {
      problems.push({
        key: "callbackAllowInsecure",
        message: "allows http:// callbacks, and callbacks to loopback addresses, and is for local clusters only (target kubeconfig); never in a real cluster",
      });
    }
    if (read("callbackTestReceiver") !== undefined) {
      problems.push({
        key: "callbackTestReceiver",
        message: "lets callbacks reach one private address over plain http, for a rehearsal on a local cluster only (target kubeconfig); never in a real cluster",
      });
    }
  }
  if (settings && targetKind === "containerapps") problems.push(...containerAppsStopProblems(settings, read));
  if (!settings || problems.length > 0) return { problems };
  // A secret's value is the pods' to read, not the stack's: its settings hold none.
  for (const name of SECRET_SETTINGS) delete settings[name];

  const environment: ApiSettings["environment"] = {};
  for (const name of ALWAYS_WRITTEN) environment[name] = SETTING_DEFAULTS[name];
  for (const [name, value] of Object.entries(typed) as [SettingName, string][]) {
    if (SECRET_SETTINGS.has(name)) continue;
    const parsed = settings[name];
    const written = Array.isArray(parsed) ? parsed.join(",") : value;
    if (written !== "") environment[name] = written;
  }
  return { api: { settings, environment, secrets }, problems };
}

/** The keys the API's stop takes its time from (stack/workload/index.ts, stopSeconds). */
const STOP_KEYS = ["drainTimeoutMs", "callbackTimeoutMs", "maxPendingCallbacks", "maxConcurrentJobs", "maxQueuedJobs"] as const;

/**
 * Target containerapps: the API's stop (its drain and wrap-up, as the Deployment's grace period counts
 * them) must fit in the most Container Apps waits before it kills a replica; else callbacks owed at the
 * stop would be lost. Named under each of those keys that was set (drainTimeoutMs when none was).
 */
function containerAppsStopProblems(settings: Settings, read: (key: string) => unknown): SettingProblem[] {
  const seconds = stopSeconds(settings);
  const limit = CONTAINER_APPS_LIMITS.terminationGracePeriodSeconds;
  if (seconds <= limit) return [];
  const drain = Math.ceil(settings.DRAIN_TIMEOUT_MS / 1000);
  const message =
    `with target containerapps the API may take ${seconds} s to stop (drainTimeoutMs: ${drain} s, then the wrap-up: ` +
    `ceil((maxPendingCallbacks + maxConcurrentJobs + maxQueuedJobs) / ${CALLBACK_SOCKETS_PER_HOST}) x callbackTimeoutMs + 1 s = ${seconds - drain - TERMINATION_MARGIN_SECONDS} s, ` +
    `and a ${TERMINATION_MARGIN_SECONDS} s margin), more than the ${limit} s Container Apps waits before it kills a replica (terminationGracePeriodSeconds): ` +
    `lower ${STOP_KEYS.slice(0, -1).join(", ")} or ${STOP_KEYS.at(-1)}`;
  const set = STOP_KEYS.filter((key) => read(key) !== undefined);
  return (set.length > 0 ? set : ["drainTimeoutMs"]).map((key) => ({ key, message }));
}
