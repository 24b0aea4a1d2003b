/** What Deadlines keeps: a job's context, linked to its neighbours through its own fields. */
export interface Deadlined<T> {
  /** When it is due (`performance.now()` time). */
  readonly deadline: number;
  /** Set once it is stopped: an expiry passes over it (it is about to leave the list). */
  readonly stopped: unknown;
  older: T | undefined;
  newer: T | undefined;
}

/**
 * The jobs accepted and not yet over, running or queued, oldest first, and the one timer that stops them
 * at their deadlines. Every job has the same timeout, so acceptance order is deadline order, and one
 * timer, set for the oldest deadline, does for all (a timer per job was measurable on the hot path).
 * The list is linked through the jobs' own contexts: adding and removing costs two pointer writes and
 * allocates nothing (a Set that gains and loses an entry per request reallocates its table as it goes).
 */
export class Deadlines<T extends Deadlined<T>> implements Iterable<T> {
  #oldest: T | undefined;
  #newest: T | undefined;
  #armed = false;

  constructor(
    /** How long after its acceptance (its `add`) each entry is due. */
    private readonly timeoutMs: number,
    /** Told once for each entry found past its deadline and not stopped. */
    private readonly expired: (entry: T) => void,
  ) {}

  /** Adds an entry accepted now (its deadline `timeoutMs` from now), as the newest. */
  add(entry: T): void {
    entry.older = this.#newest;
    if (this.#newest) this.#newest.newer = entry;
    else this.#oldest = entry;
    this.#newest = entry;
    if (!this.#armed) this.#arm(this.timeoutMs);
  }

  delete(entry: T): void {
    if (entry.older) entry.older.newer = entry.newer;
    else if (this.#oldest === entry) this.#oldest = entry.newer;
    else return; // not in the list
    if (entry.newer) entry.newer.older = entry.older;
    else this.#newest = entry.older;
    entry.older = entry.newer = undefined;
  }

  /** Oldest first; an entry deleted during the walk does not end it. */
  *[Symbol.iterator](): Iterator<T> {
    for (let entry = this.#oldest; entry; ) {
      const next = entry.newer;
      yield entry;
      entry = next;
    }
  }

  /**
   * The one timer, due in `ms`. Unreferenced: it never keeps the process alive by itself (a running job
   * does, by what it waits on; the server and the drain do the rest).
   */
  #arm(ms: number): void {
    this.#armed = true;
    setTimeout(this.#expire, Math.max(1, Math.ceil(ms))).unref();
  }

  /** Tells of every entry past its deadline, then sets the timer for the oldest one left, if any. */
  readonly #expire = (): void => {
    this.#armed = false;
    const now = performance.now();
    for (const entry of this) {
      if (entry.stopped) continue;
      if (entry.deadline > now) {
        this.#arm(entry.deadline - now);
        return;
      }
      this.expired(entry);
    }
  };
}
