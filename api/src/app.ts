import { Router } from "@koa/router";
import Koa from "koa";

import { healthz } from "./health/healthz.js";
import { readyz } from "./health/readyz.js";
import type { Config } from "./config.js";
import { Drain } from "./framework/drain.js";
import { errorHandler, notFoundHandler } from "./framework/errors.js";
import type { Logger } from "./framework/logging.js";
import { createMetrics, type Metrics } from "./framework/metrics.js";
import { requestPipeline } from "./framework/pipeline.js";
import { jobs as builtInJobs } from "./jobs/index.js";
import type { Job } from "./jobs/job.js";
import { createJobMetrics } from "./activities/metrics.js";
import type { CallbackTransport } from "./callbacks/sender.js";
import type { HostLookup } from "./callbacks/callback-uri.js";
import { ActivityService } from "./activities/activity-service.js";
import { jobRoutes } from "./activities/routes.js";

export interface AppDependencies {
  config: Config;
  logger: Logger;
  /** Shared with the server's shutdown; a fresh one when not given. */
  drain?: Drain;
  metrics?: Metrics;
  jobs?: readonly Job[];
  /** Resolves callBackUri hosts; the system's resolver when not given (tests stand in for DNS). */
  lookup?: HostLookup;
  /** Tests only: the TLS trust and dialling of callbacks (see CallbackTransport); never from settings. */
  callbackTransport?: CallbackTransport;
}

// Probes come every few seconds: logged at debug, not info.
const QUIET_PATHS = new Set(["/healthz", "/readyz"]);

/**
 * Builds the Koa app from its middleware and routes: the job routes and the probes. It never listens:
 * see listen.ts. Its metrics are served by `createMetricsApp` on a port of their own (METRICS_PORT), so
 * a public entry to this app never exposes them.
 */
export function createApp({
  config,
  logger,
  drain = new Drain(),
  metrics = createMetrics(),
  jobs = builtInJobs,
  lookup,
  callbackTransport,
}: AppDependencies): Koa {
  const app = new Koa();
  // Errors are answered by the request pipeline; this only sees failures outside the middleware: a socket error,
  // or a request whose framing broke after its headers (already answered and logged by the server's
  // clientError, so only at debug here). The logger's error serializer keeps raw bytes out either way.
  app.on("error", logAppError(logger));

  const router = new Router();
  router.get("/healthz", healthz).get("/readyz", readyz(drain));
  const activities = new ActivityService({ config, drain, logger, metrics: createJobMetrics(metrics.registry), lookup, transport: callbackTransport });
  jobRoutes(router, jobs, activities);

  app
    .use(requestPipeline({ logger, metrics, drain, quietPaths: QUIET_PATHS }))
    .use(router.routes())
    .use(router.allowedMethods());
  return app;
}

/** Koa's `error` event, logged through the logger (and its error serializer), never Koa's default stderr dump. */
function logAppError(logger: Logger) {
  return (err: unknown) => {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === "string" && code.startsWith("HPE_")) logger.debug({ err }, "request framing broken after its headers");
    else logger.warn({ err }, "unhandled Koa error");
  };
}

/** `GET /metrics` (Prometheus text) and nothing else, for the cluster-internal metrics port. */
export function createMetricsApp(metrics: Metrics, logger?: Logger): Koa {
  const app = new Koa();
  if (logger) app.on("error", logAppError(logger));
  const router = new Router();
  router.get("/metrics", async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  app.use(errorHandler()).use(notFoundHandler()).use(router.routes()).use(router.allowedMethods());
  return app;
}
