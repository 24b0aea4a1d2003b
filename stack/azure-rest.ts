/**
 * The two places the program talks to Azure itself rather than through azure-native: the registry's
 * token endpoint (registry authentication, acr-token.ts) and Resource Manager's provider registrations
 * (the preflight, providers.ts). Both take the deploying identity's Entra token for Resource Manager,
 * from azure-native's `authorization.getClientToken` (the provider's own credentials: `az login`,
 * workload identity, a service principal or a managed identity).
 */

/** Where those calls go. The tests point both at a server on 127.0.0.1. */
export interface AzureRest {
  /** Resource Manager's base URL, without a trailing slash. */
  resourceManager: string;
  /** The registry's token exchange endpoint (what `az acr login` posts to). */
  acrExchangeUrl(loginServer: string): string;
}

const RESOURCE_MANAGER: Record<string, string> = {
  public: "https://management.azure.com",
  usgovernment: "https://management.usgovcloudapi.net",
  china: "https://management.chinacloudapi.cn",
};

/**
 * The endpoints of the Azure cloud azure-native is configured for: `azure-native:environment` or
 * ARM_ENVIRONMENT (public, usgovernment, china), public by default.
 */
export function azureRestFor(environment: string | undefined): AzureRest {
  const name = (environment ?? "public").toLowerCase();
  const resourceManager = RESOURCE_MANAGER[name];
  if (!resourceManager) throw new Error(`azure-native:environment ${JSON.stringify(environment)} is not one of ${Object.keys(RESOURCE_MANAGER).join(", ")}`);
  return { resourceManager, acrExchangeUrl: (loginServer) => `https://${loginServer}/oauth2/exchange` };
}

/** How long one call to Azure may take before the deployment stops with an error. */
export const AZURE_REST_TIMEOUT_MS = 30_000;

/** A short, token-free description of an HTTP error body (Azure's `{"error":{"code","message"}}` shapes). */
export function describeErrorBody(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; errors?: { code?: string; message?: string }[]; error_description?: string };
    if (typeof body.error === "object" && body.error !== null) {
      const { code, message } = body.error as { code?: string; message?: string };
      return [code, message].filter(Boolean).join(": ");
    }
    if (Array.isArray(body.errors)) return body.errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ");
    if (typeof body.error === "string") return [body.error, body.error_description].filter(Boolean).join(": ");
  } catch {
    // not JSON: say nothing of it
  }
  return "";
}
