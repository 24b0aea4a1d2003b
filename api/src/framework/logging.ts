import { randomUUID } from "node:crypto";
import type { Middleware } from "koa";
import { pino, type Logger, type LoggerOptions } from "pino";

import { routeOf } from "./route.js";

export type { Logger };

/**
 * Structured JSON logs on stdout, as the cluster's log collector expects. Written asynchronously: under
 * load, lines queue while a write is in flight and go out together, instead of one syscall per line.
 * Call `logger.flush()` before exiting.
 */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination({ dest: 1, sync: false })): Logger {
  const options: LoggerOptions = {
    level,
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Belt and braces: nothing should log these, and if something does they are masked. (Exact paths:
    // wildcard paths would cost every log call.)
    redact: {
      paths: ["authorization", "headers.authorization", "req.headers.authorization", "callBackUri", "body.callBackUri", "password"],
      censor: "[redacted]",
    },
  };
  return pino(options, destination);
}

// Accept a caller's request id when it is short and plain; anything else could forge or flood log lines.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives each request an id (`x-request-id`, returned on every answer) and a child logger carrying it
 * (`ctx.state.log`, made the first time it is used), then logs one line per request. Probes and metrics
 * scrapes are logged at debug.
 */
export function requestLogging(logger: Logger, quietPaths: ReadonlySet<string>): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get("x-request-id");
    const requestId = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set("x-request-id", requestId);
    ctx.state.requestId = requestId;
    let log: Logger | undefined;
    Object.defineProperty(ctx.state, "log", { get: () => (log ??= logger.child({ reqId: requestId })) });
    const start = performance.now();
    try {
      await next();
    } finally {
      const line = {
        reqId: requestId,
        method: ctx.method,
        route: routeOf(ctx),
        status: ctx.status,
        durationMs: Math.round((performance.now() - start) * 100) / 100,
      };
      if (quietPaths.has(ctx.path)) logger.debug(line, "request");
      else logger.info(line, "request");
    }
  };
}
