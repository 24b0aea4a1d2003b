import { errors, jwtVerify, type JWTPayload } from "jose";
import type { Middleware } from "koa";

import { defaultJwksUri, entraIssuers, type AzureCloudName } from "../clouds.js";
import { HttpError } from "../framework/errors.js";
import type { Logger } from "../framework/logging.js";
import { KeysUnavailable, SigningKeys } from "./signing-keys.js";

export interface EntraOptions {
  /** The Entra ID tenant (a GUID) whose tokens are accepted. */
  tenantId: string;
  /** Accepted `aud` values: the resource the caller asked a token for (e.g. `api://adf-webhook`) and/or its client id. */
  audiences: readonly string[];
  /** When set and not empty, only tokens whose `oid` (the caller's object id) is listed are accepted. */
  allowedCallers?: readonly string[] | undefined;
  /** When set and not empty, the token's `roles` claim (its app roles) must hold every one of these. */
  requiredRoles?: readonly string[] | undefined;
  /** The Azure cloud whose Entra ID issues the tokens (issuers and signing keys); `public` by default. */
  cloud?: AzureCloudName;
  /** Where the tenant's signing keys are; defaults to the tenant's Entra ID JWKS in `cloud`. */
  jwksUri?: string | undefined;
  /** Slack for `exp` and `nbf`, in seconds. */
  clockToleranceSeconds?: number;
  /** How long fetched keys are used before they are fetched again (default 1 hour). */
  keysMaxAgeMs?: number;
}

const REALM = 'realm="adf-webhook-api"';
// RFC 6750: a token68 after `Bearer`. A JWT's characters are base64url plus the dots.
const BEARER_HEADER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function refuse(message: string, tokenSent: boolean): HttpError {
  const challenge = tokenSent ? `Bearer ${REALM}, error="invalid_token"` : `Bearer ${REALM}`;
  return new HttpError(401, "unauthorized", message, { "WWW-Authenticate": challenge });
}

/** Why a token was refused, in general terms: never any of its content. */
function reasonFor(error: unknown): string | undefined {
  if (error instanceof errors.JWTExpired) return "The token has expired.";
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "nbf":
        return "The token is not valid yet.";
      case "aud":
        return "The token's audience is not accepted by this API.";
      case "iss":
        return "The token was not issued by this API's Entra ID tenant.";
      case "exp":
        return "The token has no valid expiry.";
      default:
        return "The token's claims are invalid.";
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return "The token's signature is invalid.";
  if (error instanceof errors.JOSEAlgNotAllowed) return "The token's signing algorithm is not accepted (RS256 only).";
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return "The token was not signed by a known key of this API's Entra ID tenant.";
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return "The token is malformed.";
  if (error instanceof errors.JOSENotSupported) return "The token uses an unsupported feature.";
  return undefined;
}

/**
 * `AUTH_MODE=entra`: an Entra ID bearer JWT, such as the one a Data Factory sends with managed identity
 * authentication. Checks the RS256 signature against the tenant's keys (see SigningKeys: cached for an
 * hour, then refreshed in the background; fetched again for an unknown key id, at most every 30 s; the
 * last ones kept while a refresh fails, and a failed fetch backed off), `exp`/`nbf` with a small
 * tolerance, the issuer (v1 or v2 of the tenant, in the chosen Azure cloud), the audience and, when
 * lists are set, the caller's object id and its app roles. The caller's `oid` goes to `ctx.state.caller`.
 */
export function entraAuthentication(options: EntraOptions): Middleware {
  const tenantId = options.tenantId.toLowerCase();
  const cloud = options.cloud ?? "public";
  const issuer = entraIssuers(cloud, tenantId);
  const requiredRoles = options.requiredRoles ?? [];
  const audience = [...options.audiences];
  const allowed = options.allowedCallers?.length ? new Set(options.allowedCallers.map((id) => id.toLowerCase())) : undefined;
  const clockTolerance = options.clockToleranceSeconds ?? 60;

  const keys = new SigningKeys({ url: new URL(options.jwksUri ?? defaultJwksUri(cloud, tenantId)), maxAgeMs: options.keysMaxAgeMs ?? 3_600_000 });

  async function verify(token: string, log: Logger | undefined): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, keys.keyFor(log), {
        algorithms: ["RS256"],
        issuer,
        audience,
        clockTolerance,
        requiredClaims: ["exp", "iss", "aud"],
      });
      return payload;
    } catch (error) {
      if (error instanceof KeysUnavailable) {
        log?.warn({ err: error.cause }, "authentication unavailable: the Entra ID signing keys could not be fetched");
        throw new HttpError(503, "auth_unavailable", "The identity provider's signing keys could not be fetched; retry shortly.", {
          "Retry-After": "5",
        });
      }
      const reason = reasonFor(error);
      if (reason === undefined) throw error;
      log?.info({ authMode: "entra", reason }, "authentication refused");
      throw refuse(reason, true);
    }
  }

  return async (ctx, next) => {
    const log = ctx.state.log as Logger | undefined;
    const header = ctx.get("authorization");
    if (!header || !/^Bearer(\s|$)/i.test(header)) {
      log?.info({ authMode: "entra", reason: "no bearer token" }, "authentication refused");
      throw refuse("A bearer token is required (Authorization: Bearer ...).", false);
    }
    const match = BEARER_HEADER.exec(header);
    if (!match) {
      log?.info({ authMode: "entra", reason: "malformed Authorization header" }, "authentication refused");
      throw refuse("The Authorization header is not a valid bearer token.", true);
    }
    const payload = await verify(match[1]!, log);

    const refused = (reason: string) => {
      log?.info({ authMode: "entra", reason }, "authentication refused");
      return refuse(reason, true);
    };
    if (typeof payload.tid === "string" && payload.tid.toLowerCase() !== tenantId) {
      throw refused("The token was issued for another tenant.");
    }
    const oid = typeof payload.oid === "string" ? payload.oid : undefined;
    if (allowed && !(oid && allowed.has(oid.toLowerCase()))) {
      throw refused("The caller is not allowed to use this API.");
    }
    if (requiredRoles.length > 0) {
      // App roles assigned to the caller (a managed identity, a service principal or a user) arrive in `roles`.
      const roles = new Set(Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === "string") : []);
      if (!requiredRoles.every((role) => roles.has(role))) throw refused("The caller lacks an app role this API requires.");
    }
    const caller = oid ?? payload.sub ?? "unknown";
    ctx.state.caller = caller;
    const appId = typeof payload.appid === "string" ? payload.appid : typeof payload.azp === "string" ? payload.azp : undefined;
    log?.debug({ authMode: "entra", caller, appId, tokenVersion: payload.ver }, "caller authenticated");
    await next();
  };
}
