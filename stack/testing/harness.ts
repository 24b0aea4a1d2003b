/**
 * Runs the program under Pulumi's unit-test mocks: no engine, CLI, Docker or cloud. Every
 * resource registration and provider call is recorded, with mocked outputs standing in for what
 * Azure, Docker and Kubernetes would return.
 */
import { createHash } from "node:crypto";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

import { canonicalJson } from "./canonical-json.js";
import { loadConfig, type ConfigReader, type StackConfig } from "../config/index.js";
import { runStack, type StackOutputs } from "../program.js";
import { AKS_USER_KUBECONFIG, ENTRA_ACCESS_TOKEN, startFakeAzure, type FakeAzure } from "./fake-azure.js";

export const DIGEST = `sha256:${"ab12".repeat(16)}`;
export const SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000001";
export const TENANT_ID = "00000000-0000-0000-0000-0000000000aa";
export const KUBELET_OBJECT_ID = "11111111-1111-1111-1111-111111111111";
export const ADF_PRINCIPAL_ID = "22222222-2222-2222-2222-222222222222";
export const LB_IP = "20.30.40.50";
/** The region getManagedCluster reports for an existing cluster (not the stack's `location`). */
export const EXISTING_CLUSTER_LOCATION = "swedencentral";
export const ADMIN_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n# admin\n";
/** Target containerapps: the pull identity's principal, the workspace's id and key, an environment's domain. */
export const PULL_IDENTITY_PRINCIPAL_ID = "66666666-6666-6666-6666-666666666666";
export const WORKSPACE_CUSTOMER_ID = "77777777-7777-7777-7777-777777777777";
export const WORKSPACE_SHARED_KEY = "bG9nLWFuYWx5dGljcy1zaGFyZWQta2V5";
export const ENVIRONMENT_DOMAIN = "kindbeach-1a2b3c4d.westeurope.azurecontainerapps.io";
/** The region getManagedEnvironment reports for an existing environment (not the stack's `location`). */
export const EXISTING_ENVIRONMENT_LOCATION = "North Europe";
/** An existing environment of this name has no workload profiles (Consumption-only); any other has the Consumption profile. */
export const CONSUMPTION_ONLY_ENVIRONMENT = "cae-consumption-only";

/** Resource options as the engine receives them in the RegisterResource request. */
export interface RegistrationOptions {
  ignoreChanges: string[];
  customTimeouts?: { create?: string; update?: string; delete?: string };
  /** URNs this resource depends on (dependsOn and its inputs' resources). */
  dependencies: string[];
  /** For each input, the URNs of the resources its value came from. */
  propertyDependencies: Record<string, string[]>;
  /** The parent's URN ("" for the stack itself). */
  parent: string;
  /** A component's providers, by package. */
  providers: Record<string, string>;
  protect: boolean;
  deleteBeforeReplace: boolean;
  retainOnDelete: boolean;
  deletedWith: string;
  replaceOnChanges: string[];
  additionalSecretOutputs: string[];
  aliases: string[];
}

export interface Registration {
  type: string;
  name: string;
  options: RegistrationOptions;
  /** The inputs as plain values (secrets unwrapped). */
  inputs: Record<string, unknown>;
  /** Dotted paths of the inputs that arrived as secrets, e.g. `registry.password`. */
  secretPaths: string[];
  /**
   * Where those secrets are in the inputs the engine stores, which are what the provider's Check
   * returned: the same paths, except a Kubernetes Secret's (see checkedSecret).
   */
  storedSecretPaths: string[];
  state: Record<string, unknown>;
  provider?: string;
}

/** An export or input the engine does not know yet (in a preview): the SDK's own marker. */
export const UNKNOWN = pulumi.unknown;

export interface RunOptions {
  /** A preview (`pulumi preview`): outputs of resources being created stay unknown. */
  preview?: boolean;
  /** Resource providers the subscription has not registered (a fresh subscription). */
  unregisteredProviders?: string[];
  /** The digest the image build "pushed" (the e2e passes the one a real registry serves); default DIGEST. */
  imageDigest?: string;
  /** Resource providers whose registration the identity may not read (HTTP 403). */
  forbiddenProviders?: string[];
}

export interface Run {
  preview: boolean;
  /** The requests the program sent to Azure's REST endpoints itself (token exchange, provider registrations). */
  azureRequests: FakeAzure["requests"];
  resources: Registration[];
  calls: pulumi.runtime.MockCallArgs[];
  outputs: { [K in keyof StackOutputs]: unknown };
  /** The stack outputs that are secrets. */
  secretOutputs: string[];
  ofType(type: string): Registration[];
  one(type: string): Registration;
}

/** A config reader over plain values; the keys in `secrets` come back as Pulumi secrets. Every key asked goes into `asked`. */
export function reader(values: Record<string, string>, secrets: Record<string, string> = {}, asked = new Set<string>()): ConfigReader {
  const own = (from: Record<string, string>, key: string) => (Object.hasOwn(from, key) ? from[key] : undefined);
  return {
    get: (key) => (asked.add(key), own(values, key) ?? own(secrets, key)),
    getSecret: (key) => {
      asked.add(key);
      const value = own(secrets, key) ?? own(values, key);
      return value === undefined ? undefined : pulumi.secret(value);
    },
  };
}

function isSecretValue(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

/** Unwraps the engine's secret markers, collecting where they were. */
export function unwrapSecrets(value: unknown, at = "", found: string[] = []): unknown {
  if (value === pulumi.unknown) return value; // an input the engine does not know yet (a preview)
  if (isSecretValue(value)) {
    found.push(at);
    return unwrapSecrets(value.value, at, found);
  }
  if (Array.isArray(value)) return value.map((item, i) => unwrapSecrets(item, `${at}[${i}]`, found));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v, at ? `${at}.${k}` : k, found)]));
  }
  return value;
}

/** `myacr.azurecr.io/adf-webhook-api:latest` -> `myacr.azurecr.io/adf-webhook-api@sha256:...`. */
export function repoDigestOf(imageName: string, digest = DIGEST): string {
  const slash = imageName.lastIndexOf("/");
  const colon = imageName.lastIndexOf(":");
  const repository = colon > slash ? imageName.slice(0, colon) : imageName;
  return `${repository}@${digest}`;
}

function registryId(group: string, name: string): string {
  return armId(group, "Microsoft.ContainerRegistry/registries", name);
}

/** A resource's id as Resource Manager writes it. */
function armId(group: string, type: string, name: string): string {
  return `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${group}/providers/${type}/${name}`;
}

/**
 * The name Pulumi gives an object declared without one: the resource's name and a random suffix, drawn
 * anew when the object is replaced. A hash of the inputs stands in, so a changed object gets a new
 * name as it would, and the same inputs always get the same one. (The engine also draws one for a
 * preview and another for the update that creates the object, as the e2e saw; the mocks give one.)
 */
function autoName(name: string, inputs: Record<string, unknown>): string {
  return `${name}-${createHash("sha256").update(canonicalJson(inputs)).digest("hex").slice(0, 8)}`;
}

/**
 * A Kubernetes Secret as the kubernetes provider's Check returns it, and so as the engine stores it and
 * its outputs hold it: `stringData` moved into `data`, base64-encoded (pulumi-kubernetes 4.32.0,
 * provider/pkg/clients/unstructured.go, normalizeSecret), and `data` a secret where `stringData` was one
 * (provider/pkg/provider/provider.go). Seen in the e2e's state: the password is under `data`.
 */
export function checkedSecret(inputs: Record<string, unknown>, secretPaths: string[]): { inputs: Record<string, unknown>; secretPaths: string[] } {
  const { stringData, ...rest } = inputs as { stringData?: Record<string, string> };
  if (!stringData || Object.keys(stringData).length === 0) return { inputs, secretPaths };
  const encoded = Object.fromEntries(Object.entries(stringData).map(([key, value]) => [key, Buffer.from(value).toString("base64")]));
  const moved = secretPaths.map((p) => (p === "stringData" || p.startsWith("stringData.") ? `data${p.slice("stringData".length)}` : p));
  return { inputs: { ...rest, data: { ...((rest as { data?: object }).data ?? {}), ...encoded } }, secretPaths: [...new Set(moved)] };
}

/** What the docker provider returns for a built and pushed image (pulumi-docker 5.0.0, provider/image.go, dockerBuild): not its inputs. */
function imageOutputs(inputs: Record<string, unknown>, imageDigest?: string): Record<string, unknown> {
  const build = (inputs.build ?? {}) as { context?: string; dockerfile?: string; platform?: string };
  const context = build.context ?? ".";
  return {
    imageName: inputs.imageName,
    baseImageName: inputs.imageName,
    registryServer: (inputs.registry as { server?: string } | undefined)?.server ?? "",
    context,
    // The Dockerfile as the build context sees it.
    dockerfile: path.posix.relative(context, build.dockerfile ?? path.posix.join(context, "Dockerfile")),
    platform: build.platform,
    repoDigest: repoDigestOf(String(inputs.imageName), imageDigest),
  };
}

function mockState(type: string, name: string, inputs: Record<string, unknown>, imageDigest?: string): Record<string, unknown> {
  const declared = (inputs.metadata ?? {}) as Record<string, unknown>;
  // The kubernetes provider names an object declared without a name, and says so in an annotation.
  const metadata =
    declared.name === undefined
      ? { ...declared, name: autoName(name, inputs), annotations: { ...(declared.annotations as object), "pulumi.com/autonamed": "true" } }
      : declared;
  if (type.startsWith("pulumi:providers:")) return { ...inputs };
  switch (type) {
    case "kubernetes:core/v1:Secret":
      return { ...checkedSecret(inputs, []).inputs, metadata };
    case "azure-native:resources:ResourceGroup":
      return { ...inputs, name: inputs.resourceGroupName ?? `${name}1a2b3c4d` };
    case "azure-native:containerregistry:Registry": {
      const registryName = String(inputs.registryName);
      return { ...inputs, name: registryName, loginServer: `${registryName}.azurecr.io`, id: registryId(String(inputs.resourceGroupName), registryName) };
    }
    case "azure-native:containerservice:ManagedCluster":
      return { ...inputs, name: inputs.resourceName ?? `${name}5e6f7a8b`, identityProfile: { kubeletidentity: { objectId: KUBELET_OBJECT_ID } } };
    case "azure-native:datafactory:Factory":
      return { ...inputs, name: inputs.factoryName ?? `${name}9c0d1e2f`, identity: { type: "SystemAssigned", principalId: ADF_PRINCIPAL_ID, tenantId: TENANT_ID } };
    case "azure-native:datafactory:Pipeline":
      return { ...inputs, name: inputs.pipelineName ?? name };
    case "azure-native:operationalinsights:Workspace": {
      const workspaceName = String(inputs.workspaceName ?? `${name}3e4f5a6b`);
      return { ...inputs, name: workspaceName, id: armId(String(inputs.resourceGroupName), "Microsoft.OperationalInsights/workspaces", workspaceName), customerId: WORKSPACE_CUSTOMER_ID };
    }
    case "azure-native:app:ManagedEnvironment": {
      const environmentName = String(inputs.environmentName ?? `${name}7c8d9e0f`);
      return { ...inputs, name: environmentName, id: armId(String(inputs.resourceGroupName), "Microsoft.App/managedEnvironments", environmentName), defaultDomain: ENVIRONMENT_DOMAIN };
    }
    case "azure-native:managedidentity:UserAssignedIdentity": {
      const identityName = String(inputs.resourceName ?? `${name}5a6b7c8d`);
      return {
        ...inputs,
        name: identityName,
        id: armId(String(inputs.resourceGroupName), "Microsoft.ManagedIdentity/userAssignedIdentities", identityName),
        principalId: PULL_IDENTITY_PRINCIPAL_ID,
        tenantId: TENANT_ID,
      };
    }
    case "azure-native:app:ContainerApp": {
      const appName = String(inputs.containerAppName ?? name);
      return { ...inputs, name: appName, id: armId(String(inputs.resourceGroupName), "Microsoft.App/containerApps", appName), latestRevisionFqdn: `${appName}--0000001.${ENVIRONMENT_DOMAIN}` };
    }
    case "docker:index/image:Image":
      return imageOutputs(inputs, imageDigest);
    case "kubernetes:core/v1:Service": {
      const spec = (inputs.spec ?? {}) as Record<string, unknown>;
      const status = spec.type === "LoadBalancer" ? { loadBalancer: { ingress: [{ ip: LB_IP }] } } : { loadBalancer: {} };
      return { ...inputs, metadata, status };
    }
    default:
      if (type.startsWith("kubernetes:")) return { ...inputs, metadata };
      return { ...inputs, name: inputs.name ?? name };
  }
}

function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
  const inputs = args.inputs as Record<string, string>;
  switch (args.token) {
    case "azure-native:authorization:getClientToken":
      return { token: ENTRA_ACCESS_TOKEN };
    case "azure-native:authorization:getClientConfig":
      return { subscriptionId: SUBSCRIPTION_ID, tenantId: TENANT_ID, clientId: "client", objectId: "object" };
    case "azure-native:containerregistry:listRegistryCredentials":
      return { username: inputs.registryName, passwords: [{ name: "password", value: "acr-admin-password" }, { name: "password2", value: "other" }] };
    case "azure-native:containerservice:listManagedClusterUserCredentials":
      return { kubeconfigs: [{ name: "clusterUser", value: Buffer.from(AKS_USER_KUBECONFIG).toString("base64") }] };
    case "azure-native:containerservice:listManagedClusterAdminCredentials":
      return { kubeconfigs: [{ name: "clusterAdmin", value: Buffer.from(ADMIN_KUBECONFIG).toString("base64") }] };
    case "azure-native:containerregistry:getRegistry":
      return { id: registryId(inputs.resourceGroupName, inputs.registryName), name: inputs.registryName, loginServer: `${inputs.registryName}.azurecr.io` };
    case "azure-native:operationalinsights:getSharedKeys":
      return { primarySharedKey: WORKSPACE_SHARED_KEY, secondarySharedKey: "c2Vjb25kYXJ5" };
    case "azure-native:app:getManagedEnvironment":
      return {
        id: armId(inputs.resourceGroupName, "Microsoft.App/managedEnvironments", inputs.environmentName),
        name: inputs.environmentName,
        location: EXISTING_ENVIRONMENT_LOCATION,
        defaultDomain: `${inputs.environmentName}.northeurope.azurecontainerapps.io`,
        workloadProfiles: inputs.environmentName === CONSUMPTION_ONLY_ENVIRONMENT ? [] : [{ name: "Consumption", workloadProfileType: "Consumption" }],
      };
    case "azure-native:containerservice:getManagedCluster":
      return {
        id: `/subscriptions/${SUBSCRIPTION_ID}/x/${inputs.resourceName}`,
        name: inputs.resourceName,
        location: EXISTING_CLUSTER_LOCATION,
        identityProfile: { kubeletidentity: { objectId: KUBELET_OBJECT_ID } },
      };
    default:
      throw new Error(`unexpected provider call ${args.token}`);
  }
}

/** Resolves an output (or plain value) as the engine would; undefined stays undefined. */
export function resolve<T>(value: pulumi.Input<T> | undefined): Promise<T | undefined> {
  if (value === undefined) return Promise.resolve(undefined);
  // The SDK's own promise: it rejects when the output failed (a failed apply or registration).
  return (pulumi.output(value) as unknown as { promise(): Promise<T> }).promise();
}

/** Like `resolve`, but an output the engine does not know (in a preview) resolves to UNKNOWN. */
export async function resolveOrUnknown<T>(value: pulumi.Input<T> | undefined): Promise<T | undefined | typeof UNKNOWN> {
  if (value === undefined) return undefined;
  const output = pulumi.output(value) as unknown as { isKnown: Promise<boolean> };
  if (!(await output.isKnown)) return UNKNOWN;
  return resolve(value);
}

/**
 * What a provider returns for a resource it would create, in a preview: its inputs, and every output
 * it computes (ids, addresses, identities, digests) unknown. Names stay known: azure-native and
 * kubernetes pick auto-names in Check, before the preview.
 */
function previewState(inputs: Record<string, unknown>, state: Record<string, unknown>): Record<string, unknown> {
  const preview: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(state)) {
    const known = key === "name" || key === "metadata" || (key in inputs && JSON.stringify(inputs[key]) === JSON.stringify(value));
    preview[key] = known ? value : pulumi.runtime.unknownValue;
  }
  return preview;
}

/** A protobuf map field (google-protobuf's jspb.Map). */
interface ProtoMap<V> {
  forEach(callback: (value: V, key: string) => void): void;
}

function entriesOf<V, T>(map: ProtoMap<V>, convert: (value: V) => T): Record<string, T> {
  const result: Record<string, T> = {};
  map.forEach((value, key) => (result[key] = convert(value)));
  return result;
}

/** The options of a RegisterResource request, as the engine gets them. */
interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getIgnorechangesList(): string[];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): ProtoMap<{ getUrnsList(): string[] }>;
  getParent(): string;
  getProvidersMap(): ProtoMap<string>;
  getProtect(): boolean;
  getDeletebeforereplace(): boolean;
  getRetainondelete(): boolean;
  getDeletedwith(): string;
  getReplaceonchangesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getAliasurnsList(): string[];
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string; getDelete(): string } | undefined;
}

function optionsOf(req: RegisterResourceRequest): RegistrationOptions {
  const timeouts = req.getCustomtimeouts();
  const customTimeouts = timeouts
    ? Object.fromEntries(
        Object.entries({ create: timeouts.getCreate(), update: timeouts.getUpdate(), delete: timeouts.getDelete() }).filter(([, v]) => v),
      )
    : undefined;
  return {
    ignoreChanges: req.getIgnorechangesList(),
    customTimeouts: customTimeouts && Object.keys(customTimeouts).length > 0 ? customTimeouts : undefined,
    dependencies: req.getDependenciesList(),
    propertyDependencies: entriesOf(req.getPropertydependenciesMap(), (value) => value.getUrnsList()),
    parent: req.getParent(),
    providers: entriesOf(req.getProvidersMap(), (value) => value),
    protect: req.getProtect(),
    deleteBeforeReplace: req.getDeletebeforereplace(),
    retainOnDelete: req.getRetainondelete(),
    deletedWith: req.getDeletedwith(),
    replaceOnChanges: req.getReplaceonchangesList(),
    additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    aliases: req.getAliasurnsList(),
  };
}

/** Runs the program for a validated config and waits for every registration. */
let fakeAzure: Promise<FakeAzure> | undefined;
let current: Registration[] = [];

/** The registrations of the run in progress (for a program that fails before it finishes). */
export function registrationsSoFar(): Registration[] {
  return [...current];
}

export async function runWith(config: StackConfig, runOptions: RunOptions = {}): Promise<Run> {
  const preview = runOptions.preview ?? false;
  fakeAzure ??= startFakeAzure(TENANT_ID);
  const azure = await fakeAzure;
  azure.requests.length = 0;
  azure.unregistered.clear();
  azure.forbidden.clear();
  for (const namespace of runOptions.unregisteredProviders ?? []) azure.unregistered.add(namespace);
  for (const namespace of runOptions.forbiddenProviders ?? []) azure.forbidden.add(namespace);
  const resources: Registration[] = [];
  current = resources;
  const calls: pulumi.runtime.MockCallArgs[] = [];
  const requested = new Map<string, RegistrationOptions>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const secretPaths: string[] = [];
        const inputs = unwrapSecrets(args.inputs, "", secretPaths) as Record<string, unknown>;
        // A component's state is what it registers as outputs, which the engine stores and no mock sees.
        const full = args.custom === false ? {} : mockState(args.type, args.name, inputs, runOptions.imageDigest);
        const checked = args.type === "kubernetes:core/v1:Secret" ? checkedSecret(inputs, secretPaths) : { inputs, secretPaths };
        const state = preview ? previewState(checked.inputs, full) : full;
        const options = requested.get(`${args.type}::${args.name}`);
        if (!options) throw new Error(`no RegisterResource request was seen for ${args.type}::${args.name}`);
        const recorded = Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v === pulumi.runtime.unknownValue ? UNKNOWN : v]));
        resources.push({ type: args.type, name: args.name, options, inputs, secretPaths, storedSecretPaths: checked.secretPaths, state: recorded, provider: args.provider });
        // In a preview a resource being created has no id yet: "" is unknown to the SDK.
        return { id: preview ? "" : typeof full.id === "string" ? full.id : `${args.name}-id`, state };
      },
      call(args) {
        calls.push(args);
        return mockCall(args);
      },
    },
    "adf-webhook-aks",
    "test",
    preview,
  );
  // Record each request's resource options (ignoreChanges, customTimeouts, dependencies) before the
  // mock monitor turns it into a newResource call, which carries only the inputs.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterResourceRequest, callback: unknown): unknown };
  const registerResource = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    requested.set(`${req.getType()}::${req.getName()}`, optionsOf(req));
    return registerResource(req, callback);
  };

  const stackOutputs = runStack(config, { azureRest: azure.rest });
  const outputs = {} as Run["outputs"];
  const secretOutputs: string[] = [];
  for (const [key, value] of Object.entries(stackOutputs) as [keyof StackOutputs, pulumi.Output<unknown> | undefined][]) {
    outputs[key] = await resolveOrUnknown(value);
    if (value !== undefined && (await pulumi.isSecret(value))) secretOutputs.push(key);
  }
  // Registrations that hang off outputs (the pipeline, the HPA...) finish after the outputs do.
  await pulumi.runtime.disconnect();

  return {
    preview,
    azureRequests: [...azure.requests],
    resources,
    calls,
    outputs,
    secretOutputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type) {
      const found = resources.filter((r) => r.type === type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0] as Registration;
    },
  };
}

/** Loads the config from plain values and runs the program. */
export function run(values: Record<string, string>, secrets: Record<string, string> = {}, runOptions: RunOptions = {}): Promise<Run> {
  return runWith(loadConfig(reader(values, secrets)), runOptions);
}
