import { randomUUID } from "node:crypto";

import type { Router } from "@koa/router";
import type { Context, Middleware } from "koa";

import { authentication } from "../auth/index.js";
import type { Config } from "../config.js";
import { BodyBudget, expectedBodyBytes, jsonBody } from "../framework/body.js";
import type { Drain } from "../framework/drain.js";
import { HttpError, JSON_TYPE, sendError } from "../framework/errors.js";
import { invalidInput } from "../framework/validation.js";
import type { Logger } from "../framework/logging.js";
import { ADF_FIELDS, type Job } from "../jobs/job.js";
import { Backlog, busy } from "./backlog.js";
import { CallbackSender, callbackPayload, type CallbackTransport } from "../callbacks/sender.js";
import { checkCallbackUri, type CallbackPolicy, type HostLookup } from "../callbacks/callback-uri.js";
import type { JobMetrics } from "./metrics.js";
import { JobRunner, type JobOutcome, type LogSource } from "./runner.js";

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
  const backlog = new Backlog(config, metrics);
  const bodies = new BodyBudget(config.MAX_BODY_BYTES_IN_FLIGHT, busy);
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
  const policy: CallbackPolicy = {
    allowedHosts: config.CALLBACK_ALLOWED_HOSTS,
    allowInsecure: config.CALLBACK_ALLOW_INSECURE,
    testReceiver: config.CALLBACK_TEST_RECEIVER,
    lookup,
  };
  if (policy.allowInsecure) {
    logger.warn("CALLBACK_ALLOW_INSECURE=true: callbacks may use http, and reach loopback addresses (private ones stay refused). For local testing only.");
  }
  if (policy.testReceiver) logger.warn({ testReceiver: policy.testReceiver }, "CALLBACK_TEST_RECEIVER: callbacks may reach this one origin over http, private or not. For rehearsals only.");

  /**
   * Web activity: run now, answer with the outcome; 503 busy when no slot is free (the Web activity has a
   * retry policy; queueing would spend the caller's httpRequestTimeout). A caller that disconnects cancels
   * its job. Still served while draining (the caller waits on this connection, and a job still running at
   * the wrap-up is answered 503 InstanceShuttingDown).
   */
  async function respond(ctx: Context, job: Job, input: unknown): Promise<void> {
    const outcome = await runner.start(job, input, { logs: ctx.state as LogSource, caller: ctx.res });
    if (outcome.ok) {
      // The header itself: `ctx.type =` would look the MIME type up on every answer.
      ctx.set("Content-Type", JSON_TYPE);
      ctx.body = outcome.output;
    } else sendError(ctx, outcome.statusCode, outcome.errorCode, outcome.message);
  }

  /**
   * Webhook activity: accept (queued when no slot is free), then run and call back in the background,
   * inside the drain. Refused (503 busy) only when the queue, the pending callbacks or their bytes are at
   * their limits; not accepted while draining (such work usually outlives the drain).
   */
  async function accept(ctx: Context, job: Job, input: unknown, callBackUri: unknown): Promise<void> {
    if (drain.draining) throw new HttpError(503, "draining", "This instance is shutting down; retry.", { "Retry-After": "1" });
    const target = await checkCallbackUri(callBackUri, policy);
    const json = ctx.request.rawBody ?? "";
    const bytes = Buffer.byteLength(json);
    let outcome: Promise<JobOutcome>;
    const jobId = randomUUID();
    // The callBackUri is a secret (its path and query authorise the callback): only its host is logged.
    const log = (ctx.state.log as Logger).child({ jobId });
    try {
      backlog.admit(bytes, target.origin);
    } catch (error) {
      metrics.jobs.inc({ job: job.name, outcome: "rejected" });
      throw error;
    }
    // The input is held, queued or running, until the job ends; then its callback is.
    const releaseInput = backlog.hold("input", bytes, target.origin);
    try {
      outcome = runner.start(job, input, { logs: { log }, queue: { json, revive: (text) => reviveInput(job, text) } });
    } catch (error) {
      releaseInput(); // refused (and counted) by the runner: the queue is full
      throw error;
    }
    metrics.jobs.inc({ job: job.name, outcome: "accepted" });
    log.info({ job: job.name, callbackHost: target.host }, "job accepted");
    const work = outcome
      .then((result) => {
        releaseInput();
        if (result.ok) log.info({ job: job.name }, "job succeeded");
        const payload = callbackPayload(result);
        const releaseCallback = backlog.hold("callback", payload.length, target.origin);
        return sender.deliver(target, payload, log).finally(releaseCallback);
      })
      .catch((error: unknown) => log.error({ err: error }, "job or callback failed unexpectedly"));
    void drain.track(work);
    ctx.status = 202;
    ctx.body = { jobId, job: job.name, status: "accepted" };
  }

  /**
   * Refuses a body the budget has no room for before reading it (see Backlog.admitBody): by its
   * Content-Length, or as large as BODY_LIMIT when chunked or compressed (read in full, it could be).
   */
  const roomForBody =
    (job: Job): Middleware =>
    async (ctx, next) => {
      const bytes = expectedBodyBytes(ctx, config.BODY_LIMIT);
      if (bytes > 0) {
        try {
          backlog.admitBody(bytes);
        } catch (error) {
          metrics.jobs.inc({ job: job.name, outcome: "rejected" });
          throw error;
        }
      }
      await next();
    };

  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`two jobs are named "${job.name}"`);
    names.add(job.name);

    if (job.get) router.get(`/${job.name}`, ...guards, (ctx) => respond(ctx, job, parseInput(job, {})));
    router.post(`/${job.name}`, ...guards, roomForBody(job), jsonBody(config.BODY_LIMIT, bodies), async (ctx) => {
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

/** A queued job's input, made again from the body's JSON text when the job starts. */
function reviveInput(job: Job, json: string): unknown {
  return parseInput(job, withoutAdfFields(JSON.parse(json) as object));
}

function parseInput(job: Job, fields: unknown): unknown {
  const parsed = job.input.safeParse(fields);
  if (!parsed.success) throw invalidInput(job.name, parsed.error);
  return parsed.data;
}
