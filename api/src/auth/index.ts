import type { Middleware } from "koa";

import type { Config } from "../config.js";
import { basicAuthentication } from "./basic.js";
import { entraAuthentication } from "./entra.js";

/**
 * Who may start jobs, by AUTH_MODE: `none`, `basic` or `entra`. Guards the job routes only:
 * probes and metrics stay open. Call it once per app: it builds the verifier (and, for `entra`,
 * the cached key set) that every guarded route shares. The guards to put before a job route's handler:
 * none for `none` (a pass-through middleware would still cost a call and a promise per request).
 */
export function authentication(config: Config): Middleware[] {
  switch (config.AUTH_MODE) {
    case "none":
      return [];
    case "basic":
      return [
        basicAuthentication({
          username: required(config.BASIC_AUTH_USERNAME, "BASIC_AUTH_USERNAME", "basic"),
          password: required(config.BASIC_AUTH_PASSWORD, "BASIC_AUTH_PASSWORD", "basic"),
        }),
      ];
    case "entra":
      return [
        entraAuthentication({
          tenantId: required(config.ENTRA_TENANT_ID, "ENTRA_TENANT_ID", "entra"),
          audiences: required(config.ENTRA_AUDIENCE, "ENTRA_AUDIENCE", "entra"),
          allowedCallers: config.ENTRA_ALLOWED_CALLERS,
          requiredRoles: config.ENTRA_REQUIRED_ROLES,
          cloud: config.AZURE_CLOUD,
          jwksUri: config.ENTRA_JWKS_URI,
        }),
      ];
  }
}

// loadConfig already refuses these; this keeps a hand-built Config honest too.
function required<T>(value: T | undefined, name: string, mode: string): T {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) {
    throw new Error(`${name} is required when AUTH_MODE=${mode}`);
  }
  return value;
}
