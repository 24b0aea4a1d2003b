import { randomUUID } from "node:crypto";

import type { Router } from "@koa/router";
import type { Context } from "koa";
import { z } from "zod";

import { authentication } from "../auth/index.js";
import type { Config } from "../config.js";
import { jsonBody } from "../framework/body.js";
import type { Drain } from "../framework/drain.js";
import { HttpError, sendError } from "../framework/errors.js";
import type { Logger } from "../framework/logging.js";
import { ADF_FIELDS, type Job } from "../jobs/job.js";
import { CallbackSender, type CallbackTransport } from "./callback.js";
import { checkCallbackUri, type CallbackPolicy, type HostLookup } from "./callbackUri.js";
import type { JobMetrics } from "./metrics.js";
import { callbackBody, JobRunner } from "./runner.js";

export interface JobRouteDependencies {
  config: Config;
  drain: Drain;
  metrics: JobMetrics;
  logger: Logger;
  lookup?: HostLookup | undefined;
  /** Tests only: see CallbackTransport. */
  transport?: CallbackTransport | undefined;
}

/**
 * ADF's two ways of calling a job, at `POST /<job>`:
 * - Webhook activity: the body carries `callBackUri`. Input and URI are checked first (400 on a bad one,
 *   so the activity fails at once), then 202 with a receipt; the job runs in the background and its
 *   outcome is POSTed to callBackUri as `{Output, Error?, StatusCode}`.
 * - Web activity: no `callBackUri`. The job runs while the caller waits: 200 with its output, or its
 *   error status with a JSON error.
 * Jobs marked `get` also answer `GET /<job>` (the original endpoints).
 */
export function jobRoutes(router: Router, jobs: readonly Job[], { config, drain, metrics, logger, lookup, transport }: JobRouteDependencies): void {
  const guards = authentication(config);
  const runner = new JobRunner(config, metrics, drain.wrapUp);
  const sender = new CallbackSender(
    {
      timeoutMs: config.CALLBACK_TIMEOUT_MS,
      maxAttempts: config.CALLBACK_MAX_ATTEMPTS,
      retryBaseMs: config.CALLBACK_RETRY_BASE_MS,
      allowInsecure: config.CALLBACK_ALLOW_INSECURE,
      lookup,
      transport,
    },
    metrics,
    drain.wrapUp,
  );
  const policy: CallbackPolicy = { allowedHosts: config.CALLBACK_ALLOWED_HOSTS, allowInsecure: config.CALLBACK_ALLOW_INSECURE, lookup };
  if (policy.allowInsecure) logger.warn("CALLBACK_ALLOW_INSECURE=true: callbacks may use http and loopback. For local testing only.");

  /**
   * Web activity: run now, answer with the outcome. Still served while draining (the caller waits on
   * this connection, and a job still running at the wrap-up is answered 503 InstanceShuttingDown).
   */
  async function respond(ctx: Context, job: Job, input: unknown): Promise<void> {
    const outcome = await runner.run(job, input, () => ctx.state.log as Logger, runner.reserve(job));
    if (outcome.ok) ctx.body = outcome.output;
    else sendError(ctx, outcome.statusCode, outcome.errorCode, outcome.message);
  }

  /**
   * Webhook activity: accept, then run and call back in the background, inside the drain. Not accepted
   * while draining: such work usually outlives the drain, and ADF can retry the activity elsewhere.
   */
  async function accept(ctx: Context, job: Job, input: unknown, callBackUri: unknown): Promise<void> {
    if (drain.draining) throw new HttpError(503, "draining", "This instance is shutting down; retry.", { "Retry-After": "1" });
    const target = await checkCallbackUri(callBackUri, policy);
    const release = runner.reserve(job);
    const jobId = randomUUID();
    // The callBackUri is a secret (its path and query authorise the callback): only its host is logged.
    const log = (ctx.state.log as Logger).child({ jobId });
    metrics.jobs.inc({ job: job.name, outcome: "accepted" });
    log.info({ job: job.name, callbackHost: target.host }, "job accepted");
    const work = runner
      .run(job, input, () => log, release)
      .then((outcome) => {
        if (outcome.ok) log.info({ job: job.name }, "job succeeded");
        return sender.deliver(target, callbackBody(outcome), log);
      })
      .catch((error: unknown) => log.error({ err: error }, "job or callback failed unexpectedly"));
    void drain.track(work);
    ctx.status = 202;
    ctx.body = { jobId, job: job.name, status: "accepted" };
  }

  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`two jobs are named "${job.name}"`);
    names.add(job.name);

    if (job.get) router.get(`/${job.name}`, ...guards, (ctx) => respond(ctx, job, parseInput(job, {})));
    router.post(`/${job.name}`, ...guards, jsonBody(config.BODY_LIMIT), async (ctx) => {
      const body: unknown = ctx.request.body;
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw new HttpError(400, "invalid_input", "The body must be a JSON object.");
      }
      const { callBackUri } = body as Record<string, unknown>;
      const input = parseInput(job, withoutAdfFields(body));
      if (callBackUri === undefined) await respond(ctx, job, input);
      else await accept(ctx, job, input, callBackUri);
    });
  }
}

/** The body without the fields ADF adds (a copy made of own data properties, never through setters). */
function withoutAdfFields(body: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !ADF_FIELDS.has(key)));
}

function parseInput(job: Job, fields: unknown): unknown {
  const parsed = job.input.safeParse(fields);
  if (!parsed.success) throw new HttpError(400, "invalid_input", `Invalid input for ${job.name}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
