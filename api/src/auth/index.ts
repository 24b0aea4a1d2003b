import type { Middleware } from "koa";

import type { Config } from "../config.js";

/**
 * Who may start jobs, by AUTH_MODE: `none`, `basic` or `entra`. Guards the job routes only:
 * probes and metrics stay open.
 */
export function authentication(config: Config): Middleware {
  switch (config.AUTH_MODE) {
    case "none":
      return (_ctx, next) => next();
    default:
      throw new Error(`AUTH_MODE=${config.AUTH_MODE} is not implemented yet`);
  }
}
