/**
 * The work that must finish before the process may exit: webhook jobs, their callbacks, anything a
 * feature starts outside a request. A feature joins the drain by passing its promise to `track()`.
 * Requests in flight are the HTTP server's own business (see server.ts), so they are not tracked here.
 */
export class Drain {
  #draining = false;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #wrapUp = new AbortController();

  /** True from the first shutdown signal on: readiness answers 503 and no new work should start. */
  get draining(): boolean {
    return this.#draining;
  }

  /** How much tracked work has not settled yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Keeps `work` in the drain until it settles, and returns it unchanged. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#pending.add(work);
    const forget = () => this.#pending.delete(work);
    work.then(forget, forget);
    return work;
  }

  /**
   * Aborts shortly before the drain's deadline: work that cannot finish in time stops and reports
   * (a job fails as InstanceShuttingDown, a callback stops waiting between retries) instead of being cut
   * off silently when the process exits.
   */
  get wrapUp(): AbortSignal {
    return this.#wrapUp.signal;
  }

  /** Marks the process as draining (readiness turns 503 at once). */
  begin(): void {
    this.#draining = true;
  }

  /** Time is nearly up: see `wrapUp`. */
  wrapUpNow(): void {
    this.#wrapUp.abort();
  }

  /**
   * Waits until all tracked work, including work added while waiting (a retry, a callback), has settled.
   * Resolves true when it all did, false when the deadline came first.
   */
  async settled(deadline: number): Promise<boolean> {
    while (this.#pending.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(resolve, remaining);
      });
      await Promise.race([Promise.allSettled([...this.#pending]), timeout]);
      clearTimeout(timer);
    }
    return true;
  }
}
