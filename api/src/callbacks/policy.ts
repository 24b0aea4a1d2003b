/**
 * How a callback is retried: the settings' defaults, the wait before each retry, and from those the
 * longest a callback can take before the API gives up. The sender (sender.ts) and the settings
 * (settings.ts) use it, and so does the Pulumi program: the sample pipeline's activities must wait at
 * least this long (stack/data-factory.ts).
 */

/** The API's defaults for the callback settings (CALLBACK_TIMEOUT_MS etc.). */
export const CALLBACK_DEFAULTS = {
  /** Each attempt (DNS, connect, send, the receiver's status line) gets this long. */
  CALLBACK_TIMEOUT_MS: 10_000,
  /** Attempts in all, the first included. */
  CALLBACK_MAX_ATTEMPTS: 10,
  /** The first retry's backoff; it doubles with each retry, up to MAX_RETRY_DELAY_MS. */
  CALLBACK_RETRY_BASE_MS: 500,
} as const;

/**
 * Callback connections open at once to one host (the sender's agents): more callbacks to that host wait
 * for one of these, and their attempt's timeout starts when they get it.
 */
export const CALLBACK_SOCKETS_PER_HOST = 64;

/** The longest wait between two attempts, backoff or the receiver's Retry-After alike. */
export const MAX_RETRY_DELAY_MS = 30_000;

/**
 * The wait before retry number `retry` (1 for the second attempt): exponential backoff with jitter
 * (`random` in [0, 1) picks within the upper half), or the receiver's Retry-After if that is longer,
 * never more than MAX_RETRY_DELAY_MS.
 */
export function retryDelayMs(retry: number, retryBaseMs: number, retryAfterMs: number | undefined, random: number): number {
  const backoff = Math.min(MAX_RETRY_DELAY_MS, retryBaseMs * 2 ** (retry - 1));
  const asked = Math.min(MAX_RETRY_DELAY_MS, retryAfterMs ?? 0);
  return Math.max(asked, backoff / 2 + random * (backoff / 2));
}

/** The callback settings; an unset one takes the API's default. */
interface CallbackSettings {
  CALLBACK_TIMEOUT_MS?: number;
  CALLBACK_MAX_ATTEMPTS?: number;
  CALLBACK_RETRY_BASE_MS?: number;
}

/**
 * The longest the API may spend on one callback before giving up: every attempt running into its
 * timeout, and before each retry the longest wait retryDelayMs allows (a receiver may ask for
 * Retry-After up to the cap). Whoever waits for the callback (ADF's activity timeout) must wait the
 * job's run time plus this.
 */
export function callbackRetryWindowMs(settings: CallbackSettings = {}): number {
  const attempts = settings.CALLBACK_MAX_ATTEMPTS ?? CALLBACK_DEFAULTS.CALLBACK_MAX_ATTEMPTS;
  const timeoutMs = settings.CALLBACK_TIMEOUT_MS ?? CALLBACK_DEFAULTS.CALLBACK_TIMEOUT_MS;
  const baseMs = settings.CALLBACK_RETRY_BASE_MS ?? CALLBACK_DEFAULTS.CALLBACK_RETRY_BASE_MS;
  let windowMs = attempts * timeoutMs;
  for (let retry = 1; retry < attempts; retry++) windowMs += retryDelayMs(retry, baseMs, Number.POSITIVE_INFINITY, 1);
  return windowMs;
}

/** What the wrap-up must make room for: the callback settings, and the most work a pod can hold. */
interface WrapUpSettings extends CallbackSettings {
  MAX_CONCURRENT_JOBS: number;
  MAX_QUEUED_JOBS: number;
  MAX_PENDING_CALLBACKS: number;
}

/** Stopping the jobs left and writing their answers, on top of the callbacks' own time. */
export const WRAP_UP_MARGIN_MS = 1_000;

/**
 * How long shutdown's wrap-up may take (it comes after DRAIN_TIMEOUT_MS): jobs still running or queued
 * are stopped (InstanceShuttingDown), and every callback still owed, theirs and those waiting to retry,
 * gets one last attempt, CALLBACK_SOCKETS_PER_HOST at a time (ADF calls back from one host), each
 * within CALLBACK_TIMEOUT_MS. At most MAX_PENDING_CALLBACKS callbacks wait and MAX_CONCURRENT_JOBS +
 * MAX_QUEUED_JOBS jobs add one each, so this many rounds of one timeout cover the worst case; the wrap-up
 * ends as soon as the last callback is settled. (Whatever CALLBACK_MAX_ATTEMPTS, a callback gets at most
 * one more attempt here.) The pods' terminationGracePeriodSeconds must cover the drain plus this
 * (stack/workload/index.ts).
 */
export function wrapUpMs(settings: WrapUpSettings): number {
  const timeoutMs = settings.CALLBACK_TIMEOUT_MS ?? CALLBACK_DEFAULTS.CALLBACK_TIMEOUT_MS;
  const callbacks = settings.MAX_PENDING_CALLBACKS + settings.MAX_CONCURRENT_JOBS + settings.MAX_QUEUED_JOBS;
  return Math.ceil(callbacks / CALLBACK_SOCKETS_PER_HOST) * timeoutMs + WRAP_UP_MARGIN_MS;
}
