import type { Config } from "../config.js";
import { HttpError } from "../framework/errors.js";
import type { Logger } from "../framework/logging.js";
import { JobFailure, type Job, type JsonObject } from "../jobs/job.js";
import type { CallbackBody } from "./callback.js";
import type { JobMetrics } from "./metrics.js";

/** How a job ended, in the terms ADF's callback uses. */
export type JobOutcome =
  | { ok: true; output: JsonObject }
  | { ok: false; statusCode: number; errorCode: string; message: string; output: JsonObject };

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

  /** Runs the job to an outcome; never rejects. `signal` can stop it early (a client that went away). */
  async run(job: Job, input: unknown, log: Logger, signal?: AbortSignal): Promise<JobOutcome> {
    const timeout = AbortSignal.timeout(this.config.JOB_TIMEOUT_MS);
    const stop = signal ? AbortSignal.any([timeout, signal]) : timeout;
    let onAbort: (() => void) | undefined;
    // A job that ignores its signal still ends here at the deadline; its promise is left to settle alone.
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(stop.reason);
      stop.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => {});
    const started = performance.now();
    let outcome: JobOutcome;
    try {
      const output = await Promise.race([job.run(input, { signal: stop, log }), aborted]);
      outcome = { ok: true, output };
    } catch (error) {
      outcome = this.#failure(error, timeout.aborted, signal?.aborted ?? false, log);
    } finally {
      if (onAbort) stop.removeEventListener("abort", onAbort);
    }
    const durationMs = Math.round(performance.now() - started);
    const result = outcome.ok ? "succeeded" : outcome.errorCode === "JobTimedOut" ? "timed_out" : "failed";
    this.metrics.jobs.inc({ job: job.name, outcome: result });
    if (outcome.ok) log.info({ durationMs }, "job succeeded");
    else log.warn({ durationMs, statusCode: outcome.statusCode, errorCode: outcome.errorCode }, `job ${result.replace("_", " ")}`);
    return outcome;
  }

  #failure(error: unknown, timedOut: boolean, cancelled: boolean, log: Logger): JobOutcome {
    if (cancelled && !timedOut) {
      return { ok: false, statusCode: 499, errorCode: "JobCancelled", message: "The caller went away before the job finished.", output: {} };
    }
    if (timedOut) {
      return { ok: false, statusCode: 504, errorCode: "JobTimedOut", message: `The job ran longer than JOB_TIMEOUT_MS (${this.config.JOB_TIMEOUT_MS} ms).`, output: {} };
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
