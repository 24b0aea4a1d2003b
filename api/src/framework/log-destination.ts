import { pino } from "pino";

/** What pino writes to and flushes (`logger.flush(cb)`). */
export interface LogDestination {
  write(line: string): void;
  flush(callback?: (error?: Error) => void): void;
}

/**
 * Log lines written in one event-loop turn go out together, in one synchronous write at the end of the
 * turn (`setImmediate`). Under load that is one syscall for dozens of lines; at rest, one per line, as
 * before. Nothing waits in a thread pool, so nothing is in flight when the process exits: an `exit`
 * handler writes whatever this turn queued, on a graceful exit and on `process.exit()` alike (a crash
 * by signal, SIGKILL, loses at most the current turn's lines).
 *
 * The writing itself is pino's SonicBoom in synchronous mode (`pino.destination`), which retries when
 * the pipe is full (EAGAIN) and stops on a closed one (EPIPE). It is handed whole batches: SonicBoom
 * measures its pending text with `Buffer.byteLength` on every write, so lines queued in it one by one
 * cost more and more as they pile up.
 */
export class BatchedDestination implements LogDestination {
  #pending = "";
  #scheduled: NodeJS.Immediate | undefined;
  readonly #target: Pick<LogDestination, "write"> & { flushSync(): void };
  readonly #onExit = () => this.flushSync();

  constructor(fd = 1) {
    this.#target = pino.destination({ dest: fd, sync: true });
    process.once("exit", this.#onExit);
  }

  write(line: string): void {
    this.#pending += line;
    this.#scheduled ??= setImmediate(this.#writePending);
  }

  /** Writes what is pending now; `callback` runs once it is written (writes are synchronous). */
  flush(callback?: (error?: Error) => void): void {
    try {
      this.flushSync();
    } catch (error) {
      callback?.(error as Error);
      return;
    }
    callback?.();
  }

  flushSync(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#writePending();
  }

  /** Stops writing at exit (for tests that make more than one). */
  close(): void {
    this.flushSync();
    process.removeListener("exit", this.#onExit);
  }

  readonly #writePending = (): void => {
    this.#scheduled = undefined;
    if (this.#pending === "") return;
    const batch = this.#pending;
    this.#pending = "";
    this.#target.write(batch);
  };
}

/**
 * pino's `isoTime` (`,"time":"2026-11-25T15:04:05.123Z"`) with the date and time formatted once a second:
 * `toISOString` on every line is a noticeable part of a line's cost. Same text, to the millisecond.
 */
export function isoTimeCachedPerSecond(clock: () => number = Date.now): () => string {
  let second = Number.NaN;
  let prefix = "";
  return () => {
    const now = clock();
    const ms = now % 1000;
    const current = now - ms;
    if (current !== second) {
      second = current;
      // `2026-11-25T15:04:05.` (the ISO form up to and including the dot before the milliseconds).
      prefix = `,"time":"${new Date(current).toISOString().slice(0, 20)}`;
    }
    return `${prefix}${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}Z"`;
  };
}
