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

const JOB_TIMED_OUT = "JobTimedOut";

/** The reason a job's signal aborts at JOB_TIMEOUT_MS. */
class JobTimeout extends Error {
  constructor(timeoutMs: number) {
    super(`The job ran longer than JOB_TIMEOUT_MS (${timeoutMs} ms).`);
    this.name = "JobTimeout";
  }
}

/** Seconds a busy API asks callers to wait before trying again. */
const BUSY_RETRY_AFTER_S = 5;

/**
 * Runs jobs within the limits: at most MAX_CONCURRENT_JOBS at once (beyond that, 503 with Retry-After
 * rather than unbounded memory), and at most JOB_TIMEOUT_MS each (then a timeout failure, not a hang).
 */
export class JobRunner {
  #running = 0;

  constructor(
    private readonly config: Pick<Config, "MAX_CONCURRENT_JOBS" | "JOB_TIMEOUT_MS">,
    private readonly metrics: JobMetrics,
  ) {}

  /** Takes a slot for one job, or throws a 503. Call the returned function exactly once when done. */
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

  /** Runs the job to an outcome; never rejects. Successes are the caller's to log; failures are logged here. */
  async run(job: Job, input: unknown, log: Logger): Promise<JobOutcome> {
    // One timer per job, cleared when it ends (AbortSignal.timeout's timer would outlive every job by
    // JOB_TIMEOUT_MS, which under load is a lot of memory). The race ends a job that ignores its signal.
    // The signal itself is made only for a job that reads it: most short jobs never do.
    let stop: AbortController | undefined;
    let timeout: JobTimeout | undefined;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timeout = new JobTimeout(this.config.JOB_TIMEOUT_MS);
        stop?.abort(timeout);
        reject(timeout);
      }, this.config.JOB_TIMEOUT_MS);
    });
    deadline.catch(() => {});
    const context: JobContext = {
      get signal() {
        stop ??= new AbortController();
        if (timeout) stop.abort(timeout);
        return stop.signal;
      },
      log,
    };

    const started = performance.now();
    let outcome: JobOutcome;
    try {
      const output = await Promise.race([job.run(input, context), deadline]);
      outcome = { ok: true, output };
    } catch (error) {
      outcome = this.#failure(timeout ?? error, log);
    } finally {
      clearTimeout(timer);
    }
    const result = outcome.ok ? "succeeded" : outcome.errorCode === JOB_TIMED_OUT ? "timed_out" : "failed";
    this.metrics.jobs.inc({ job: job.name, outcome: result });
    if (!outcome.ok) {
      const durationMs = Math.round(performance.now() - started);
      log.warn({ job: job.name, durationMs, statusCode: outcome.statusCode, errorCode: outcome.errorCode }, `job ${result.replace("_", " ")}`);
    }
    return outcome;
  }

  #failure(error: unknown, log: Logger): JobOutcome {
    if (error instanceof JobTimeout) {
      return { ok: false, statusCode: 504, errorCode: JOB_TIMED_OUT, message: error.message, output: {} };
    }
    if (error instanceof JobFailure) {
      return { ok: false, statusCode: error.statusCode, errorCode: error.errorCode, message: error.message, output: error.output };
    }
    log.error({ err: error }, "job threw");
    return { ok: false, statusCode: 500, errorCode: "JobFailed", message: "The job failed unexpectedly; its log has the details.", output: {} };
  }
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
