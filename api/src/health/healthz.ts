import type { Middleware } from "koa";

/** Liveness: the process is up and its event loop turns. */
export const healthz: Middleware = (ctx) => {
  ctx.body = { status: "ok" };
};
