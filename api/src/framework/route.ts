import type { Context } from "koa";

/** The route pattern a request matched (`/jobs/:id`), never the raw path: labels must stay few. */
export function routeOf(ctx: Context): string {
  const matched = (ctx as { _matchedRoute?: unknown })._matchedRoute;
  return typeof matched === "string" ? matched : "unmatched";
}
