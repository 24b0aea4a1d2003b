import type { Config } from "../config.js";
import { HttpError } from "../framework/errors.js";
import type { Logger } from "../framework/logging.js";
import { JobFailure, type Job, type JobContext, type JsonObject } from "../jobs/job.js";
import type { CallbackBody } from "./callback.js";
import type { JobMetrics } from "./metrics.js";

/** How a job ended, in the terms ADF's callback uses. */
export type JobOutcome =
  | { ok: true; output: JsonObject }
  | { ok: false; statusCode: number; errorCode: string; message: string; output: JsonObject };

/** Why a job was stopped before it finished. */
class JobStopped extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: "JobTimedOut" | "InstanceShuttingDown",
    message: string,
  ) {
    super(message);
    this.name = "JobStopped";
  }
}

/** Seconds a busy API asks callers to wait before trying again. */
const BUSY_RETRY_AFTER_S = 5;

/**
 * Runs jobs within the limits: at most MAX_CONCURRENT_JOBS at once (beyond that, 503 with Retry-After
 * rather than unbounded memory), at most JOB_TIMEOUT_MS each (then a timeout failure, not a hang), and
 * not past the drain's wrap-up at shutdown (then an InstanceShuttingDown failure, which ADF can retry).
 */
export class JobRunner {
  #running = 0;
  /** The jobs running now, to stop at the wrap-up. */
  readonly #stoppers = new Set<RunContext>();

  constructor(
    private readonly config: Pick<Config, "MAX_CONCURRENT_JOBS" | "JOB_TIMEOUT_MS">,
    private readonly metrics: JobMetrics,
    private readonly wrapUp: AbortSignal,
  ) {
    wrapUp.addEventListener("abort", () => this.#stoppers.forEach((context) => context.stop(shuttingDown())), { once: true });
  }

  /** Takes a slot for one job, or throws a 503. Pass the returned release to `run`. */
  reserve(job: Job): () => void {
    if (this.#running >= this.config.MAX_CONCURRENT_JOBS) {
      this.metrics.jobs.inc({ job: job.name, outcome: "rejected" });
      throw new HttpError(503, "busy", `${this.#running} jobs are running, the most this instance takes; retry later.`, {
        "Retry-After": String(BUSY_RETRY_AFTER_S),
      });
    }
    this.#running++;
    this.metrics.running.set(this.#running);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.metrics.running.set(this.#running);
    };
  }

  /**
   * Runs the job to an outcome; never rejects. The slot is released when the job's own promise settles,
   * even after a timeout: a job that ignores its signal keeps counting against the limit while it runs.
   * Successes are the caller's to log; failures are logged here. `log` is asked for only when
   * something is logged (a request's logger is made on first use, and most jobs never log).
   */
  async run(job: Job, input: unknown, log: () => Logger, release: () => void): Promise<JobOutcome> {
    const started = performance.now();
    let outcome: JobOutcome;
    try {
      const output = await this.#settle(job, input, log, release);
      outcome = isJsonObject(output) ? { ok: true, output } : invalidOutput();
    } catch (error) {
      outcome = this.#failure(error, log);
    }
    const result = outcome.ok ? "succeeded" : outcome.errorCode === "JobTimedOut" ? "timed_out" : outcome.errorCode === "InstanceShuttingDown" ? "interrupted" : "failed";
    this.metrics.jobs.inc({ job: job.name, outcome: result });
    if (!outcome.ok) {
      const durationMs = Math.round(performance.now() - started);
      log().warn({ job: job.name, durationMs, statusCode: outcome.statusCode, errorCode: outcome.errorCode }, `job ${result.replace("_", " ")}`);
    }
    return outcome;
  }

  /**
   * One promise per job: it settles with the job's own result, or rejects with a JobStopped as soon as
   * the job is stopped (timeout, shutdown), whichever comes first, so a job that ignores its signal still
   * ends on time.
   */
  #settle(job: Job, input: unknown, log: () => Logger, release: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      // One timer per job, cleared when it ends (AbortSignal.timeout's timer would outlive every job by
      // JOB_TIMEOUT_MS, which under load is a lot of memory).
      const timer = setTimeout(() => context.stop(timedOut(this.config.JOB_TIMEOUT_MS)), this.config.JOB_TIMEOUT_MS);
      const ended = () => {
        clearTimeout(timer);
        this.#stoppers.delete(context);
      };
      const context = new RunContext(log, (reason) => {
        ended();
        reject(reason);
      });
      this.#stoppers.add(context);
      if (this.wrapUp.aborted) context.stop(shuttingDown());

      let work: Promise<JsonObject>;
      try {
        work = job.run(input, context);
      } catch (error) {
        work = Promise.reject(error);
      }
      work.then(
        (output) => {
          release();
          ended();
          resolve(output);
        },
        (error: unknown) => {
          release();
          ended();
          reject(error);
        },
      );
    });
  }

  #failure(error: unknown, log: () => Logger): JobOutcome {
    if (error instanceof JobStopped || error instanceof JobFailure) {
      const output = error instanceof JobFailure ? error.output : {};
      return { ok: false, statusCode: error.statusCode, errorCode: error.errorCode, message: error.message, output };
    }
    log().error({ err: error }, "job threw");
    return { ok: false, statusCode: 500, errorCode: "JobFailed", message: "The job failed unexpectedly; its log has the details.", output: {} };
  }
}

/**
 * What a running job sees (`signal`, `log`) and how it is stopped. A class, not an object literal with
 * getters: it is made for every job, and prototype getters keep that cheap. The signal and the logger
 * are made only if the job asks for them; most short jobs never do.
 */
class RunContext implements JobContext {
  #controller: AbortController | undefined;
  #stopped: JobStopped | undefined;

  constructor(
    private readonly getLog: () => Logger,
    /** Ends the job's run with `reason` (the runner's promise for it rejects). */
    private readonly halt: (reason: JobStopped) => void,
  ) {}

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#stopped) this.#controller.abort(this.#stopped);
    return this.#controller.signal;
  }

  get log(): Logger {
    return this.getLog();
  }

  stop(reason: JobStopped): void {
    if (this.#stopped) return;
    this.#stopped = reason;
    // The run ends with the reason first, so the job's own reaction to the abort (a rejection) comes second.
    this.halt(reason);
    this.#controller?.abort(reason);
  }
}

const timedOut = (timeoutMs: number) => new JobStopped(504, "JobTimedOut", `The job ran longer than JOB_TIMEOUT_MS (${timeoutMs} ms).`);
const shuttingDown = () =>
  new JobStopped(503, "InstanceShuttingDown", "The instance shut down before the job finished; run the activity again.");

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalidOutput(): JobOutcome {
  return { ok: false, statusCode: 500, errorCode: "JobOutputInvalid", message: "The job returned no JSON object.", output: {} };
}

/** The callback body ADF expects for an outcome. */
export function callbackBody(outcome: JobOutcome): CallbackBody {
  if (outcome.ok) return { Output: outcome.output, StatusCode: "200" };
  return {
    Output: outcome.output,
    Error: { ErrorCode: outcome.errorCode, Message: outcome.message },
    StatusCode: String(outcome.statusCode),
  };
}
