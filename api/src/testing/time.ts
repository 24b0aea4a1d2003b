/**
 * `promise`, or a rejection naming `what` if it has not settled within `ms`: a bound that turns a hang
 * into a failure, not a speed test (give it far more than the work takes on a busy machine).
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
    }),
  ]);
}

/** Waits `ms`: a gap for something to happen (never a measurement). */
export const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
