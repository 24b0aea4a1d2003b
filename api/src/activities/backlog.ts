import type { Config } from "../config.js";
import { HttpError } from "../framework/errors.js";
import type { JobMetrics } from "./metrics.js";

/** Seconds a busy API asks callers to wait before trying again. */
export const BUSY_RETRY_AFTER_S = 5;

export function busy(message: string): HttpError {
  return new HttpError(503, "busy", message, { "Retry-After": String(BUSY_RETRY_AFTER_S) });
}

/**
 * The share of MAX_PENDING_CALLBACKS and of MAX_QUEUED_BYTES that the work for one callback origin (a
 * callBackUri's scheme, host and port) may hold: the rest stays for the others. Without it, a flood of
 * calls whose callbacks go to one host that never answers filled the whole budget (issue 25: 1,000 calls
 * in a second, then every Webhook call refused 503 busy for about 70 s).
 */
export const ORIGIN_SHARE = 0.5;

/** What the work for one origin holds. */
interface Held {
  callbacks: number;
  bytes: number;
}

/**
 * The memory webhook work holds: the input of each job accepted and not yet ended (queued for a slot, or
 * running), then the body of its callback until delivered (a callback can retry for minutes after its job
 * ended). Both count against one byte budget, MAX_QUEUED_BYTES, and callbacks also against
 * MAX_PENDING_CALLBACKS; and for each callback origin, against ORIGIN_SHARE of each. A webhook call is
 * refused up front (503 busy, Retry-After) when what it would add does not fit. Once accepted, its
 * callback is always held, so the budget is passed only by outputs larger than their jobs' inputs, at
 * most by the running jobs' outputs (each at most MAX_OUTPUT_BYTES).
 */
export class Backlog {
  #bytes = 0;
  #callbacks = 0;
  /** By origin, while it holds anything: so this map is as bounded as what is held. */
  readonly #origins = new Map<string, Held>();
  readonly #originCallbacks: number;
  readonly #originBytes: number;

  constructor(
    private readonly limits: Pick<Config, "MAX_QUEUED_BYTES" | "MAX_PENDING_CALLBACKS">,
    private readonly metrics: JobMetrics,
  ) {
    this.#originCallbacks = Math.max(1, Math.floor(limits.MAX_PENDING_CALLBACKS * ORIGIN_SHARE));
    this.#originBytes = Math.floor(limits.MAX_QUEUED_BYTES * ORIGIN_SHARE);
  }

  /**
   * Refuses (503 busy) a webhook call whose work would not fit: too many callbacks pending, or `bytes`
   * (its input, which stands for its output too until that is known) past the byte budget; or the same
   * within the share of `origin`, its callback's origin. (A call larger than the share is still taken
   * when its origin holds nothing else.)
   */
  admit(bytes: number, origin: string): void {
    if (this.#callbacks >= this.limits.MAX_PENDING_CALLBACKS) {
      throw busy(`${this.#callbacks} callbacks are waiting to be delivered, the most this instance holds (MAX_PENDING_CALLBACKS); retry later.`);
    }
    this.admitBody(bytes);
    const held = this.#origins.get(origin);
    if (held && held.callbacks >= this.#originCallbacks) {
      throw busy(`${held.callbacks} callbacks to this callBackUri's host are waiting to be delivered, the most one host may have here (half of MAX_PENDING_CALLBACKS); retry later.`);
    }
    if (held && held.bytes > 0 && held.bytes + bytes > this.#originBytes) {
      throw busy(`Work for this callBackUri's host holds ${held.bytes} bytes here; this call's ${bytes} more would pass its share (half of MAX_QUEUED_BYTES); retry later.`);
    }
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

  /**
   * Counts a job's input or a pending callback, for the work of `origin`, until the returned release is
   * called (idempotent).
   */
  hold(kind: "input" | "callback", bytes: number, origin: string): () => void {
    const callbacks = kind === "callback" ? 1 : 0;
    const held = this.#origins.get(origin) ?? { callbacks: 0, bytes: 0 };
    this.#origins.set(origin, held);
    this.#add(held, callbacks, bytes);
    let holding = true;
    return () => {
      if (!holding) return;
      holding = false;
      this.#add(held, -callbacks, -bytes);
      if (held.callbacks === 0 && held.bytes === 0) this.#origins.delete(origin);
    };
  }

  #add(held: Held, callbacks: number, bytes: number): void {
    held.callbacks += callbacks;
    held.bytes += bytes;
    this.#callbacks += callbacks;
    this.#bytes += bytes;
    this.metrics.load.queuedBytes = this.#bytes;
    this.metrics.load.callbacksPending = this.#callbacks;
  }
}
