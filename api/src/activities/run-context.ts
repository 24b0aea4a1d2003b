import type { Logger } from "../framework/logging.js";
import type { JobContext } from "../jobs/job.js";
import type { JobStopped, LogSource } from "./adf-outcome.js";
import type { Deadlined } from "./deadlines.js";

/**
 * What a running job sees (`signal`, `log`) and how it is stopped. A class, not an object literal with
 * getters: it is made for every job, and prototype getters keep that cheap. The signal and the logger
 * are made only if the job asks for them; most short jobs never do.
 */
export class RunContext implements JobContext, Deadlined<RunContext> {
  #controller: AbortController | undefined;
  stopped: JobStopped | undefined;
  /** Whether the job got its slot and ran (a queued job may be stopped before). */
  started = false;
  /** Told once when the job is stopped: whatever it waits on now, its slot or its own run. */
  onStop: ((reason: JobStopped) => void) | undefined;
  /** Its neighbours in Deadlines. */
  older: RunContext | undefined;
  newer: RunContext | undefined;

  constructor(
    private readonly logs: LogSource,
    /** When it times out (`performance.now()` time): JOB_TIMEOUT_MS after its acceptance. */
    readonly deadline: number,
  ) {}

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.stopped) this.#controller.abort(this.stopped);
    return this.#controller.signal;
  }

  get log(): Logger {
    return this.logs.log;
  }

  stop(reason: JobStopped): void {
    if (this.stopped) return;
    this.stopped = reason;
    // The wait ends with the reason first, so the job's own reaction to the abort (a rejection) comes second.
    this.onStop?.(reason);
    this.#controller?.abort(reason);
  }
}
