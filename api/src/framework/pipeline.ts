import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

import type { Middleware } from "koa";

import type { Drain } from "./drain.js";
import { answerError, answerUnrouted, serializeJsonBody } from "./errors.js";
import type { Logger } from "./logging.js";
import { observeRequest, type Metrics } from "./metrics.js";
import { routeOf } from "./route.js";

export interface PipelineDependencies {
  logger: Logger;
  metrics: Metrics;
  drain: Drain;
  /** Paths logged at debug, not info (probes come every few seconds). */
  quietPaths: ReadonlySet<string>;
}

// Accept a caller's request id when it is short and plain; anything else could forge or flood log lines.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * What every request on the job port goes through, in one middleware (five separate ones cost a closure,
 * a promise and an async frame each, per request):
 * - a request id (a sane `x-request-id`, else a new UUID), returned on every answer, with a logger that
 *   carries it (`ctx.state.log`, made the first time it is used);
 * - `Connection: close` on every answer while draining, so clients reconnect to a pod that stays;
 * - a bodiless 404/405/501 from the router answered as a JSON error; JSON bodies serialised here;
 * - every failure answered as a JSON error (a 500's details go to the log only);
 * - one log line per request (`request`: reqId, method, route, status, durationMs; probes at debug), then
 *   the request counted and timed by method, route and status.
 */
export function requestPipeline({ logger, metrics, drain, quietPaths }: PipelineDependencies): Middleware {
  return async (ctx, next) => {
    const start = performance.now();
    const incoming = ctx.req.headers["x-request-id"];
    const requestId = typeof incoming === "string" && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set("x-request-id", requestId);
    ctx.state = new RequestState(logger, requestId);
    // While draining, every answer asks the client to reconnect (to a pod that is not going away).
    if (drain.draining) ctx.set("Connection", "close");
    try {
      try {
        await next();
        answerUnrouted(ctx);
        serializeJsonBody(ctx);
      } catch (error) {
        answerError(ctx, error);
        // Refused after its body was read in part (a 413 on a chunked or compressed body): Node drains a
        // body nobody touched, but not one a reader gave up on midway, which would stall the connection
        // until the request timeout, so it closes. (A body refused before any of it was read, on its
        // Content-Length say, is drained as usual: closing on the client while it still sends would cost
        // it the answer.)
        if (bodyAbandoned(ctx.req)) ctx.set("Connection", "close");
      }
    } finally {
      const end = performance.now();
      const route = routeOf(ctx);
      const status = ctx.status;
      const method = ctx.method;
      // pino's public call. A line hand-built through pino's internals saved user-space instructions but
      // no measurable throughput (bench/README.md, issue 24), and could break with any pino release.
      logger[quietPaths.has(ctx.path) ? "debug" : "info"]({ reqId: requestId, method, route, status, durationMs: Math.round((end - start) * 100) / 100 }, "request");
      observeRequest(metrics, method, route, status, (end - start) / 1000);
    }
  };
}

/** Whether a request's body was read in part and then left: started (flowing set), not read to its end. */
function bodyAbandoned(req: IncomingMessage): boolean {
  return req.readableFlowing !== null && !req.readableEnded;
}

/**
 * `ctx.state` on the job port: the request id, and the request's logger made on first use (a class with
 * a prototype getter: cheaper than defining a getter on every request's object).
 */
class RequestState {
  [key: string]: unknown;
  readonly #logger: Logger;
  #log: Logger | undefined;

  constructor(
    logger: Logger,
    readonly requestId: string,
  ) {
    this.#logger = logger;
  }

  get log(): Logger {
    return (this.#log ??= this.#logger.child({ reqId: this.requestId }));
  }
}
