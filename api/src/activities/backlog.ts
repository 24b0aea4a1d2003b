import type { Config } from "../config.js";
import { HttpError } from "../framework/errors.js";
import type { JobMetrics } from "./metrics.js";

/** Seconds a busy API asks callers to wait before trying again. */
export const BUSY_RETRY_AFTER_S = 5;

export function busy(message: string): HttpError {
  return new HttpError(503, "busy", message, { "Retry-After": String(BUSY_RETRY_AFTER_S) });
}

/**
 * The memory webhook work holds: the input of each job accepted and not yet ended (queued for a slot, or
 * running), then the body of its callback until delivered (a callback can retry for minutes after its job
 * ended). Both count against one byte budget, MAX_QUEUED_BYTES, and callbacks also against
 * MAX_PENDING_CALLBACKS. A webhook call is refused up front (503 busy, Retry-After) when what it would add
 * does not fit. Once accepted, its callback is always held, so the budget is passed only by outputs larger
 * than their jobs' inputs, at most by the running jobs' outputs (each at most MAX_OUTPUT_BYTES).
 */
export class Backlog {
  #bytes = 0;
  #callbacks = 0;

  constructor(
    private readonly limits: Pick<Config, "MAX_QUEUED_BYTES" | "MAX_PENDING_CALLBACKS">,
    private readonly metrics: JobMetrics,
  ) {}

  /**
   * Refuses (503 busy) a webhook call whose work would not fit: too many callbacks pending, or `bytes`
   * (its input, which stands for its output too until that is known) past the byte budget.
   */
  admit(bytes: number): void {
    if (this.#callbacks >= this.limits.MAX_PENDING_CALLBACKS) {
      throw busy(`${this.#callbacks} callbacks are waiting to be delivered, the most this instance holds (MAX_PENDING_CALLBACKS); retry later.`);
    }
    this.admitBody(bytes);
  }

  /**
   * Refuses (503 busy) a body of `bytes` that would take the budget past its limit. Asked with the
   * Content-Length before a body is read, too: when the budget is spent, the process is at the memory it
   * is planned for, and reading a large body only to refuse it would add to it.
   */
  admitBody(bytes: number): void {
    if (this.#bytes + bytes > this.limits.MAX_QUEUED_BYTES) {
      throw busy(`Queued work holds ${this.#bytes} bytes here; this call's ${bytes} more would pass MAX_QUEUED_BYTES (${this.limits.MAX_QUEUED_BYTES}); retry later.`);
    }
  }

  /** Counts a job's input or a pending callback until the returned release is called (idempotent). */
  hold(kind: "input" | "callback", bytes: number): () => void {
    this.#bytes += bytes;
    if (kind === "callback") this.#callbacks++;
    this.#report();
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#bytes -= bytes;
      if (kind === "callback") this.#callbacks--;
      this.#report();
    };
  }

  #report(): void {
    this.metrics.load.queuedBytes = this.#bytes;
    this.metrics.load.callbacksPending = this.#callbacks;
  }
}
