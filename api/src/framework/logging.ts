import { randomUUID } from "node:crypto";
import type { Middleware } from "koa";
import { pino, type Logger, type LoggerOptions } from "pino";

import { routeOf } from "./route.js";

export type { Logger };

/** Structured JSON logs on stdout, as the cluster's log collector expects. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    formatters: { level: (label) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Belt and braces: nothing should log these, and if something does they are masked.
    redact: {
      paths: ["authorization", "*.authorization", "headers.authorization", "callBackUri", "*.callBackUri", "password", "*.password"],
      censor: "[redacted]",
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

// Accept a caller's request id when it is short and plain; anything else could forge or flood log lines.
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Gives each request an id (`x-request-id`, returned on every answer) and a child logger carrying it
 * (`ctx.state.log`), then logs one line per request. Probes and metrics scrapes are logged at debug.
 */
export function requestLogging(logger: Logger, quietPaths: ReadonlySet<string>): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get("x-request-id");
    const requestId = SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    ctx.set("x-request-id", requestId);
    ctx.state.requestId = requestId;
    const log = logger.child({ reqId: requestId });
    ctx.state.log = log;
    const start = performance.now();
    try {
      await next();
    } finally {
      const line = {
        method: ctx.method,
        route: routeOf(ctx),
        status: ctx.status,
        durationMs: Math.round((performance.now() - start) * 100) / 100,
      };
      if (quietPaths.has(ctx.path)) log.debug(line, "request");
      else log.info(line, "request");
    }
  };
}
