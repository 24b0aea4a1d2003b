import { AZURE_REST_TIMEOUT_MS, describeErrorBody } from "./azure-rest.js";

/**
 * Registry authentication as the deploying identity, without the ACR admin user: the identity's
 * Entra access token (audience Resource Manager, as `az acr login` uses: azure-cli
 * acr/_docker_utils.py `_get_aad_token_after_challenge` takes `profile.get_raw_token()`'s default
 * resource) is exchanged at the registry's `/oauth2/exchange` for an ACR refresh token, and the push
 * logs in with it as the password of this fixed user name.
 */
export const ACR_TOKEN_USERNAME = "00000000-0000-0000-0000-000000000000";

export interface AcrExchangeRequest {
  /** The token endpoint: https://<login server>/oauth2/exchange. */
  url: string;
  /** The registry's login server, e.g. myacr.azurecr.io (the `service` of the exchange). */
  service: string;
  tenantId: string;
  /** The deploying identity's Entra access token. Never logged, never in an error. */
  accessToken: string;
}

/** Exchanges an Entra access token for an ACR refresh token (a secret: the caller keeps it one). */
export async function exchangeForAcrRefreshToken(request: AcrExchangeRequest): Promise<string> {
  const body = new URLSearchParams({
    grant_type: "access_token",
    service: request.service,
    tenant: request.tenantId,
    access_token: request.accessToken,
  });
  let response: Response;
  try {
    response = await fetch(request.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body,
      signal: AbortSignal.timeout(AZURE_REST_TIMEOUT_MS),
      redirect: "error",
    });
  } catch (error) {
    const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
    throw new Error(`registry ${request.service}: the token exchange failed (${reason}). Is the registry reachable from here?`);
  }
  const text = await response.text();
  if (!response.ok) {
    const detail = describeErrorBody(text);
    throw new Error(
      `registry ${request.service}: the token exchange answered HTTP ${response.status}${detail ? ` (${detail})` : ""}. ` +
        "The deploying identity needs AcrPush on the registry (Contributor or Owner also allow the push); " +
        "check `az login` / the pipeline's service connection, or set registryAuth to admin or docker-login.",
    );
  }
  let refreshToken: unknown;
  try {
    refreshToken = (JSON.parse(text) as { refresh_token?: unknown }).refresh_token;
  } catch {
    refreshToken = undefined;
  }
  if (typeof refreshToken !== "string" || refreshToken === "") {
    throw new Error(`registry ${request.service}: the token exchange returned no refresh_token`);
  }
  return refreshToken;
}
