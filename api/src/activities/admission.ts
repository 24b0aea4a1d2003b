import type { Config } from "../config.js";
import type { HttpError } from "../framework/errors.js";
import { busy } from "./backlog.js";
import type { JobLoad } from "./metrics.js";

/**
 * The job slots: at most MAX_CONCURRENT_JOBS jobs run at once; webhook jobs beyond that wait in a queue of
 * at most MAX_QUEUED_JOBS (then 503 with Retry-After, not unbounded memory), and a freed slot passes to
 * the oldest waiting. The counts are kept in `load`, which the gauges read at scrape time.
 */
export class Slots {
  #running = 0;
  /** Jobs waiting for a slot, oldest first: each entry is called when a slot passes to it. */
  readonly #queue = new Set<() => void>();

  constructor(
    private readonly limits: Pick<Config, "MAX_CONCURRENT_JOBS" | "MAX_QUEUED_JOBS">,
    private readonly load: JobLoad,
  ) {}

  /** Takes a free slot if there is one. (While jobs wait, none is free: a freed slot passes to them.) */
  take(): boolean {
    if (this.#running >= this.limits.MAX_CONCURRENT_JOBS) return false;
    this.load.running = ++this.#running;
    return true;
  }

  /** Whether one more job may wait for a slot. */
  get roomInQueue(): boolean {
    return this.#queue.size < this.limits.MAX_QUEUED_JOBS;
  }

  /** Waits for a slot: `granted` is called when one passes to it, unless it `leave`s first. */
  enqueue(granted: () => void): void {
    this.#queue.add(granted);
    this.load.queued = this.#queue.size;
  }

  leave(granted: () => void): void {
    this.#queue.delete(granted);
    this.load.queued = this.#queue.size;
  }

  /** A slot is free: it passes to the oldest waiting job, if any. */
  release(): void {
    const next = this.#queue.values().next();
    if (!next.done) {
      this.leave(next.value);
      next.value();
      return;
    }
    this.load.running = --this.#running;
  }

  /** The 503 for a job that finds no slot and may not (Web activity) or cannot (queue full) wait. */
  refusal(mayQueue: boolean): HttpError {
    return busy(
      mayQueue
        ? `${this.#running} jobs are running and ${this.#queue.size} are queued, the most this instance takes (MAX_QUEUED_JOBS); retry later.`
        : `${this.#running} jobs are running, the most this instance takes; retry later.`,
    );
  }
}

/**
 * A queued job's input, held as the UTF-8 bytes of its JSON (the size the backlog counts) until the job
 * starts (`take`) or is over without starting (`drop`). No closure here keeps the parsed input alive as well.
 */
export class QueuedInput {
  #bytes: Buffer | undefined;

  constructor(
    json: string,
    private readonly revive: (json: string) => unknown,
  ) {
    this.#bytes = Buffer.from(json, "utf8");
  }

  take(): unknown {
    const text = this.#bytes!.toString("utf8");
    this.#bytes = undefined;
    return this.revive(text);
  }

  drop(): void {
    this.#bytes = undefined;
  }
}
