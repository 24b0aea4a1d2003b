import { AZURE_REST_TIMEOUT_MS, describeErrorBody, type AzureRest } from "./azure-rest.js";
import type { StackConfig } from "./config/index.js";

/**
 * Resource providers a fresh subscription must have registered before the first PUT, or Azure
 * answers MissingSubscriptionRegistration. azure-native does not register them, and has no resource
 * that does (pulumi-azure-native v3: only feature registrations, `resources.SubscriptionFeatureRegistration`),
 * so a preflight stops the run, preview included, with the exact commands instead.
 */
export function requiredProviders(config: Pick<StackConfig, "target" | "dataFactory">): string[] {
  const namespaces: string[] = [];
  if (config.target.kind === "new") {
    namespaces.push(
      "Microsoft.ContainerRegistry",
      "Microsoft.ContainerService",
      // What AKS creates in its node resource group: scale sets and disks, the load balancer, the
      // virtual network and public IPs, the kubelet's managed identity.
      "Microsoft.Compute",
      "Microsoft.Network",
      "Microsoft.ManagedIdentity",
      "Microsoft.Storage",
    );
  }
  if (config.target.kind === "containerapps") {
    const { registry, environment } = config.target;
    // The Container App, its environment and its pull identity; the workspace and the registry when created.
    namespaces.push("Microsoft.App", "Microsoft.ManagedIdentity");
    if (environment.kind === "create") namespaces.push("Microsoft.OperationalInsights");
    if (registry.kind === "create") namespaces.push("Microsoft.ContainerRegistry");
  }
  if (config.dataFactory) namespaces.push("Microsoft.DataFactory");
  return namespaces;
}

/** The provider-registration API version of Resource Manager (Microsoft.Resources). */
export const PROVIDERS_API_VERSION = "2021-04-01";

export interface ProviderCheck {
  rest: AzureRest;
  subscriptionId: string;
  /** An Entra access token for Resource Manager. Never logged, never in an error. */
  accessToken: string;
  namespaces: string[];
}

export interface ProviderStates {
  /** Not `Registered` in the subscription. */
  missing: string[];
  /** Not readable by this identity (HTTP 403: no role at the subscription, as a preview-only identity may have). */
  unreadable: string[];
}

/** The namespaces of `check.namespaces` that are not `Registered` in the subscription. */
export async function unregisteredProviders(check: ProviderCheck): Promise<string[]> {
  return (await providerStates(check)).missing;
}

/** Which of `check.namespaces` are not registered, and which this identity may not read. */
export async function providerStates(check: ProviderCheck): Promise<ProviderStates> {
  const states = await Promise.all(
    check.namespaces.map(async (namespace) => {
      const url = `${check.rest.resourceManager}/subscriptions/${encodeURIComponent(check.subscriptionId)}/providers/${encodeURIComponent(namespace)}?api-version=${PROVIDERS_API_VERSION}`;
      let response: Response;
      try {
        response = await fetch(url, {
          headers: { authorization: `Bearer ${check.accessToken}`, accept: "application/json" },
          signal: AbortSignal.timeout(AZURE_REST_TIMEOUT_MS),
          redirect: "error",
        });
      } catch (error) {
        const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        throw new Error(`could not read the registration of ${namespace} from Resource Manager (${reason})`);
      }
      const text = await response.text();
      if (response.status === 403) return { namespace, state: "unreadable" as const };
      if (!response.ok) {
        const detail = describeErrorBody(text);
        throw new Error(`could not read the registration of ${namespace}: HTTP ${response.status}${detail ? ` (${detail})` : ""}`);
      }
      const registered = (JSON.parse(text) as { registrationState?: string }).registrationState === "Registered";
      return { namespace, state: registered ? ("registered" as const) : ("missing" as const) };
    }),
  );
  return {
    missing: states.filter((s) => s.state === "missing").map((s) => s.namespace),
    unreadable: states.filter((s) => s.state === "unreadable").map((s) => s.namespace),
  };
}

/** The message that stops the run: every command to type, once per subscription. */
export function registrationMessage(subscriptionId: string, missing: string[]): string {
  return [
    `The subscription ${subscriptionId} has not registered the resource providers this stack uses.`,
    "Register them once (it takes a few minutes; it needs Contributor or Owner on the subscription), then run Pulumi again:",
    ...missing.map((namespace) => `  az provider register --subscription ${subscriptionId} --namespace ${namespace} --wait`),
  ].join("\n");
}
