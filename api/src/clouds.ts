/**
 * The Azure clouds this API can serve, chosen by AZURE_CLOUD: each has its own Entra ID (token issuers and
 * signing keys) and its own Data Factory and Synapse domains (the default callBackUri hosts).
 *
 * Sources: Microsoft Learn "Microsoft Entra authentication & national clouds" (sign-in hosts), Microsoft Q&A
 * "What are the token issuers for the sovereign cloud" (v1 `sts.*` and v2 issuers per cloud), Learn "Data
 * movement security considerations" (`{factory}.{region}.datafactory.azure.us` / `.azure.cn`), Learn "Azure
 * Private Endpoint DNS zone values" (`datafactory.azure.cn`), and Azure CLI's cloud metadata (Synapse:
 * `dev.azuresynapse.net`, `dev.azuresynapse.usgovcloudapi.net`, `dev.azuresynapse.azure.cn`).
 */
export interface AzureCloud {
  /** Entra ID sign-in hosts: the v2.0 issuers are `<host>/<tenant>/v2.0`; the first also serves the signing keys. */
  loginHosts: readonly string[];
  /** The v1.0 token issuer's host: `<host>/<tenant>/`. */
  v1IssuerHost: string;
  /** Host suffixes of Data Factory and Synapse in this cloud: CALLBACK_ALLOWED_HOSTS' default. */
  callbackHosts: readonly string[];
}

export const AZURE_CLOUDS = {
  public: {
    loginHosts: ["https://login.microsoftonline.com"],
    v1IssuerHost: "https://sts.windows.net",
    callbackHosts: ["datafactory.azure.com", "azuresynapse.net"],
  },
  usgovernment: {
    loginHosts: ["https://login.microsoftonline.us"],
    // Azure Government's v1 tokens carry the same issuer host as the public cloud's.
    v1IssuerHost: "https://sts.windows.net",
    callbackHosts: ["datafactory.azure.us", "azuresynapse.usgovcloudapi.net"],
  },
  china: {
    // login.chinacloudapi.cn is the current sign-in host; tokens issued through the older
    // login.partner.microsoftonline.cn carry that host in their v2.0 issuer.
    loginHosts: ["https://login.chinacloudapi.cn", "https://login.partner.microsoftonline.cn"],
    v1IssuerHost: "https://sts.chinacloudapi.cn",
    callbackHosts: ["datafactory.azure.cn", "azuresynapse.azure.cn"],
  },
} as const satisfies Record<string, AzureCloud>;

export type AzureCloudName = keyof typeof AZURE_CLOUDS;
export const AZURE_CLOUD_NAMES = Object.keys(AZURE_CLOUDS) as AzureCloudName[];

/** The issuers of a tenant's tokens in `cloud`: v1 (`sts.*`) and v2 (each sign-in host). */
export function entraIssuers(cloud: AzureCloudName, tenantId: string): string[] {
  const { loginHosts, v1IssuerHost } = AZURE_CLOUDS[cloud];
  return [`${v1IssuerHost}/${tenantId}/`, ...loginHosts.map((host) => `${host}/${tenantId}/v2.0`)];
}

/** A tenant's signing keys in `cloud` (the `jwks_uri` of its OpenID configuration). */
export function defaultJwksUri(cloud: AzureCloudName, tenantId: string): string {
  return `${AZURE_CLOUDS[cloud].loginHosts[0]}/${tenantId}/discovery/v2.0/keys`;
}
