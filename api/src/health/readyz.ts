import type { Middleware } from "koa";

import type { Drain } from "../framework/drain.js";

/** Readiness: 200 while serving, 503 from the first shutdown signal on, so the Service stops routing here. */
export function readyz(drain: Drain): Middleware {
  return (ctx) => {
    ctx.status = drain.draining ? 503 : 200;
    ctx.body = { status: drain.draining ? "draining" : "ready" };
  };
}
