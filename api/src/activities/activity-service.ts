import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";

import type { Config } from "../config.js";
import { BodyBudget } from "../framework/body.js";
import type { Drain } from "../framework/drain.js";
import { HttpError } from "../framework/errors.js";
import type { Logger } from "../framework/logging.js";
import type { Job } from "../jobs/job.js";
import { checkCallbackUri, type CallbackPolicy, type HostLookup } from "../callbacks/callback-uri.js";
import { CallbackSender, type CallbackTransport } from "../callbacks/sender.js";
import { callbackPayload, type JobOutcome, type LogSource } from "./adf-outcome.js";
import { Backlog, busy } from "./backlog.js";
import { reviveInput } from "./job-input.js";
import type { JobMetrics } from "./metrics.js";
import { JobRunner } from "./runner.js";

export interface ActivityServiceDependencies {
  config: Config;
  drain: Drain;
  metrics: JobMetrics;
  logger: Logger;
  lookup?: HostLookup | undefined;
  /** Tests only: see CallbackTransport. */
  transport?: CallbackTransport | undefined;
}

/**
 * What ADF's two activities share, built once per app (createApp): the job runner, the backlog of webhook
 * work and its byte budget, the budget for bodies being read, and the callbacks' policy and sender. The
 * route handlers (web-activity.ts, webhook.ts) are short functions over it.
 */
export class ActivityService {
  readonly config: Config;
  /** Bodies being read count against MAX_BODY_BYTES_IN_FLIGHT (see framework/body.ts). */
  readonly bodies: BodyBudget;
  readonly #drain: Drain;
  readonly #metrics: JobMetrics;
  readonly #backlog: Backlog;
  readonly #runner: JobRunner;
  readonly #sender: CallbackSender;
  readonly #policy: CallbackPolicy;

  constructor({ config, drain, metrics, logger, lookup, transport }: ActivityServiceDependencies) {
    this.config = config;
    this.#drain = drain;
    this.#metrics = metrics;
    this.#backlog = new Backlog(config, metrics);
    this.bodies = new BodyBudget(config.MAX_BODY_BYTES_IN_FLIGHT, busy);
    this.#runner = new JobRunner(config, metrics, drain.wrapUp);
    this.#sender = new CallbackSender(
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
    this.#policy = {
      allowedHosts: config.CALLBACK_ALLOWED_HOSTS,
      allowInsecure: config.CALLBACK_ALLOW_INSECURE,
      testReceiver: config.CALLBACK_TEST_RECEIVER,
      lookup,
    };
    if (this.#policy.allowInsecure) {
      logger.warn("CALLBACK_ALLOW_INSECURE=true: callbacks may use http, and reach loopback addresses (private ones stay refused). For local testing only.");
    }
    if (this.#policy.testReceiver) {
      logger.warn({ testReceiver: this.#policy.testReceiver }, "CALLBACK_TEST_RECEIVER: callbacks may reach this one origin over http, private or not. For rehearsals only.");
    }
  }

  /**
   * Web activity: runs the job now; resolves with its outcome, cancelled if `caller` disconnects first.
   * 503 busy when no slot is free (the Web activity has a retry policy; queueing would spend the caller's
   * httpRequestTimeout). Still served while draining (the caller waits on this connection, and a job
   * still running at the wrap-up ends InstanceShuttingDown).
   */
  run(job: Job, input: unknown, logs: LogSource, caller: ServerResponse): Promise<JobOutcome> {
    return this.#runner.start(job, input, { logs, caller });
  }

  /**
   * Webhook activity: checks the callBackUri, admits the job (queued when no slot is free), then runs it
   * and calls back in the background, inside the drain; resolves with the job's id. `json` is the body as
   * it came (what a queued job holds). Refused (503 busy) only when the queue, the pending callbacks or
   * their bytes are at their limits; not accepted while draining (such work usually outlives the drain).
   */
  async accept(job: Job, input: unknown, json: string, callBackUri: unknown, logs: LogSource): Promise<string> {
    if (this.#drain.draining) throw new HttpError(503, "draining", "This instance is shutting down; retry.", { "Retry-After": "1" });
    const target = await checkCallbackUri(callBackUri, this.#policy);
    const bytes = Buffer.byteLength(json);
    const jobId = randomUUID();
    // The callBackUri is a secret (its path and query authorise the callback): only its host is logged.
    const log = logs.log.child({ jobId });
    this.#countRefusal(job, () => this.#backlog.admit(bytes, target.origin));
    // The input is held, queued or running, until the job ends; then its callback is.
    const releaseInput = this.#backlog.hold("input", bytes, target.origin);
    let outcome: Promise<JobOutcome>;
    try {
      outcome = this.#runner.start(job, input, { logs: { log }, queue: { json, revive: (text) => reviveInput(job, text) } });
    } catch (error) {
      releaseInput(); // refused (and counted) by the runner: the queue is full
      throw error;
    }
    this.#metrics.jobs.inc({ job: job.name, outcome: "accepted" });
    log.info({ job: job.name, callbackHost: target.host }, "job accepted");
    const work = outcome
      .then((result) => {
        releaseInput();
        if (result.ok) log.info({ job: job.name }, "job succeeded");
        const payload = callbackPayload(result);
        const releaseCallback = this.#backlog.hold("callback", payload.length, target.origin);
        return this.#sender.deliver(target, payload, log).finally(releaseCallback);
      })
      .catch((error: unknown) => log.error({ err: error }, "job or callback failed unexpectedly"));
    void this.#drain.track(work);
    return jobId;
  }

  /**
   * Refuses (503 busy, counted) a body of `bytes` the webhook backlog has no room for, before it is read
   * (see Backlog.admitBody).
   */
  admitBody(job: Job, bytes: number): void {
    this.#countRefusal(job, () => this.#backlog.admitBody(bytes));
  }

  /** Runs a backlog check; a refusal is counted as the job's `rejected` before it is thrown. */
  #countRefusal(job: Job, check: () => void): void {
    try {
      check();
    } catch (error) {
      this.#metrics.jobs.inc({ job: job.name, outcome: "rejected" });
      throw error;
    }
  }
}
