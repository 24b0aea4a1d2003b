import type { ServerResponse } from "node:http";

import type { Config } from "../config.js";
import type { Job } from "../jobs/job.js";
import { failedWith, outcomeLabel, shuttingDown, succeeded, timedOut, type JobOutcome, type LogSource } from "./adf-outcome.js";
import { QueuedInput, Slots } from "./admission.js";
import { cancelWhenClosed, forgetCaller } from "./caller-watch.js";
import { Deadlines } from "./deadlines.js";
import type { JobMetrics } from "./metrics.js";
import { RunContext } from "./run-context.js";

/** What `start` needs besides the job and its input. */
export interface StartOptions {
  /** The job's logger (the request's `ctx.state`, say, whose logger is made on first use). */
  logs: LogSource;
  /**
   * Webhook calls wait for a slot when none is free. While waiting, the input is held as the JSON text it
   * came as (the bytes the backlog counts), not as objects of unknown size; `revive` makes the checked
   * input from that text again when the job starts.
   */
  queue?: { json: string; revive: (json: string) => unknown };
  /** Web activity calls: the response the caller waits for; the job is cancelled if the caller disconnects. */
  caller?: ServerResponse;
}

/**
 * Runs jobs within the limits: a slot each, webhook jobs queued for one (admission.ts); each ends within
 * JOB_TIMEOUT_MS of its acceptance (deadlines.ts: then a timeout failure, not a hang); none outlives the
 * drain's wrap-up at shutdown (an InstanceShuttingDown failure, running or still queued); and a Web
 * activity's job is cancelled when its caller disconnects (caller-watch.ts). What each end means to ADF
 * is adf-outcome.ts's.
 */
export class JobRunner {
  readonly #slots: Slots;
  readonly #deadlines: Deadlines<RunContext>;

  constructor(
    private readonly config: Pick<Config, "MAX_CONCURRENT_JOBS" | "MAX_QUEUED_JOBS" | "JOB_TIMEOUT_MS" | "MAX_OUTPUT_BYTES">,
    private readonly metrics: JobMetrics,
    private readonly wrapUp: AbortSignal,
  ) {
    this.#slots = new Slots(config, metrics.load);
    this.#deadlines = new Deadlines(config.JOB_TIMEOUT_MS, (context) => context.stop(timedOut(config.JOB_TIMEOUT_MS, context.started)));
    wrapUp.addEventListener(
      "abort",
      () => {
        for (const context of this.#deadlines) context.stop(shuttingDown());
      },
      { once: true },
    );
  }

  /**
   * Takes a job: it starts now when a slot is free; a webhook call (`queue` given) otherwise waits for one.
   * Throws a 503 busy, before anything runs, when a Web activity call finds no slot or the queue is full.
   * Resolves with the outcome; never rejects. Successes are the caller's to log; failures are logged here.
   */
  start(job: Job, input: unknown, { logs, queue, caller }: StartOptions): Promise<JobOutcome> {
    if (this.#slots.take()) return this.#run(job, input, logs, caller);
    if (queue && this.#slots.roomInQueue) return this.#run(job, new QueuedInput(queue.json, queue.revive), logs, caller);
    this.metrics.jobs.inc({ job: job.name, outcome: "rejected" });
    throw this.#slots.refusal(queue !== undefined);
  }

  /** Runs a job now (it holds a slot) or once a slot passes to it (a QueuedInput), within its deadline. */
  async #run(job: Job, input: unknown, logs: LogSource, caller: ServerResponse | undefined): Promise<JobOutcome> {
    // The timeout counts from acceptance, time in the queue included: ADF's activity timeout started
    // when it called, so a callback due within JOB_TIMEOUT_MS of the 202 keeps "activity timeout above
    // JOB_TIMEOUT_MS" enough for the failure to reach ADF as JobTimedOut instead of its own TimedOut.
    const acceptedAt = performance.now();
    const context = new RunContext(logs, acceptedAt + this.config.JOB_TIMEOUT_MS);
    this.#deadlines.add(context);
    if (this.wrapUp.aborted) context.stop(shuttingDown());
    if (caller) cancelWhenClosed(caller, context);

    const { MAX_OUTPUT_BYTES } = this.config;
    const queued = input instanceof QueuedInput;
    let outcome: JobOutcome;
    try {
      if (queued && !(await this.#slot(context))) {
        outcome = failedWith(context.stopped, MAX_OUTPUT_BYTES, logs);
      } else {
        context.started = true;
        outcome = succeeded(await this.#execute(job, input, context), MAX_OUTPUT_BYTES, logs);
      }
    } catch (error) {
      outcome = failedWith(context.stopped ?? error, MAX_OUTPUT_BYTES, logs);
    } finally {
      if (queued) input.drop();
      this.#deadlines.delete(context);
      if (caller) forgetCaller(caller);
    }
    const result = outcomeLabel(outcome);
    this.metrics.jobs.inc({ job: job.name, outcome: result });
    if (!outcome.ok) {
      const durationMs = Math.round(performance.now() - acceptedAt);
      logs.log.warn({ job: job.name, durationMs, started: context.started, statusCode: outcome.statusCode, errorCode: outcome.errorCode }, `job ${result.replace("_", " ")}`);
    }
    return outcome;
  }

  /** Waits in the queue: true when a slot passed to this job, false when it was stopped first. */
  #slot(context: RunContext): Promise<boolean> {
    return new Promise((resolve) => {
      const granted = () => {
        context.onStop = undefined;
        resolve(true);
      };
      this.#slots.enqueue(granted);
      context.onStop = () => {
        this.#slots.leave(granted);
        resolve(false);
      };
    });
  }

  /**
   * Runs a job that holds a slot: its output, or a rejection as soon as it is stopped (timeout, shutdown,
   * caller gone), whichever comes first, so a job that ignores its signal still ends on time. The slot is
   * released when the job's own promise settles, even after a stop: a job that ignores its signal keeps
   * counting against the limit while it runs. One promise per job.
   */
  #execute(job: Job, input: unknown, context: RunContext): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      context.onStop = reject;
      let work: Promise<unknown>;
      try {
        if (context.stopped) throw context.stopped; // stopped as its slot came: it never runs
        // A queued input is made again from its JSON here, inside the try: whatever that throws still releases the slot.
        work = job.run(input instanceof QueuedInput ? input.take() : input, context);
      } catch (error) {
        work = Promise.reject(error);
      }
      work.then(
        (value) => {
          this.#slots.release();
          resolve(value);
        },
        (error: unknown) => {
          this.#slots.release();
          reject(error);
        },
      );
    });
  }
}
