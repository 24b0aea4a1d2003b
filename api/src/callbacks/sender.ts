import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

import type { Logger } from "../framework/logging.js";
import { BlockedAddressError, guardedLookup, type HostLookup } from "./callback-uri.js";
import * as callbackPolicy from "./policy.js";
import type { JobMetrics } from "../activities/metrics.js";

export interface DeliverySettings {
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  allowInsecure: boolean;
  /** The resolver behind the connect-time address check; the system's when not given. */
  lookup?: HostLookup;
  transport?: CallbackTransport | undefined;
}

/**
 * For tests only, and only in-process (createApp's options; no setting or environment variable reaches
 * it): the CAs callbacks trust over TLS instead of the system's, and where an address that passed the
 * address checks is really dialled. With both, a test can run the production path (https, a real Data
 * Factory host name, every check) against a receiver on 127.0.0.1 with a certificate of its own CA.
 */
export interface CallbackTransport {
  ca?: string;
  dial?: (address: string) => string;
}

const { retryDelayMs, CALLBACK_SOCKETS_PER_HOST } = callbackPolicy;

type AttemptResult = { kind: "delivered"; status: number } | { kind: "retry"; why: string; retryAfterMs?: number } | { kind: "reject"; why: string };

/**
 * POSTs `body` to the callback URL until it is delivered once: a timeout per attempt; retries with
 * exponential backoff and jitter, or the receiver's Retry-After (see callbacks/policy.ts), on network
 * errors, 408, 429 and 5xx; no retry on other answers; never
 * follows a redirect. Resolves true when delivered; a give-up is logged and counted, never thrown.
 * Success is exactly one acknowledged (2xx) delivery; like any HTTP retry, a receiver that processed a
 * callback but did not answer within the attempt's timeout can see it again.
 */
export class CallbackSender {
  readonly #agents: { http: HttpAgent; https: HttpsAgent };
  /** Retries waiting for their turn: woken all at once at the wrap-up. */
  readonly #sleepers = new Set<() => void>();

  constructor(
    private readonly settings: DeliverySettings,
    private readonly metrics: JobMetrics,
    /** At shutdown's wrap-up: stop waiting between attempts, make one last one, then give up. */
    private readonly wrapUp: AbortSignal = new AbortController().signal,
  ) {
    // Keep-alive: a burst of jobs calls back the same few ADF hosts.
    const { ca, dial } = settings.transport ?? {};
    const lookup = guardedLookup(settings.allowInsecure, settings.lookup, dial);
    this.#agents = {
      http: new HttpAgent({ keepAlive: true, maxSockets: CALLBACK_SOCKETS_PER_HOST, lookup } as object),
      https: new HttpsAgent({ keepAlive: true, maxSockets: CALLBACK_SOCKETS_PER_HOST, lookup, ...(ca === undefined ? {} : { ca }) } as object),
    };
    wrapUp.addEventListener("abort", () => [...this.#sleepers].forEach((wake) => wake()), { once: true });
  }

  async deliver(url: URL, payload: Buffer, log: Logger): Promise<boolean> {
    const { maxAttempts, retryBaseMs } = this.settings;
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) this.metrics.callbackRetries.inc();
      const result = await this.#attempt(url, payload);
      if (result.kind === "delivered") {
        this.metrics.callbackAttempts.inc({ result: "delivered" });
        log.info({ attempt, status: result.status }, "callback delivered");
        return true;
      }
      this.metrics.callbackAttempts.inc({ result: result.kind === "retry" ? "retryable" : "rejected" });
      if (result.kind === "reject" || attempt >= maxAttempts || this.wrapUp.aborted) {
        const reason = result.kind === "reject" ? "rejected" : this.wrapUp.aborted ? "shutdown" : "exhausted";
        this.metrics.callbackGiveUps.inc({ reason });
        log.error({ attempt, reason, why: result.why }, "callback given up: ADF will report the activity as timed out");
        return false;
      }
      const delay = retryDelayMs(attempt, retryBaseMs, result.retryAfterMs, Math.random());
      log.warn({ attempt, why: result.why, retryInMs: Math.round(delay) }, "callback attempt failed; retrying");
      await this.#pause(delay);
    }
  }

  /**
   * One POST, settled exactly once whatever happens to it: a status line (2xx delivered; 408, 429 and
   * 5xx retried; anything else, 1xx-as-final and 101 included, rejected), a protocol switch (101 with
   * Upgrade), a socket error, a connection closed before any status line, or no status line within
   * timeoutMs. The timeout counts from the moment the attempt gets its socket (not while it waits for one
   * of the agent's), and it also bounds how long the socket stays held after the status line: a response
   * body that never ends is cut then, so no receiver can keep one of the agent's sockets for good.
   */
  #attempt(url: URL, payload: Buffer): Promise<AttemptResult> {
    const secure = url.protocol === "https:";
    const request = secure ? httpsRequest : httpRequest;
    const { timeoutMs } = this.settings;
    return new Promise((resolve) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (result: AttemptResult) => {
        if (settled) return;
        settled = true;
        resolve(result);
      };
      const req = request(url, {
        method: "POST",
        agent: secure ? this.#agents.https : this.#agents.http,
        headers: { "content-type": "application/json", "content-length": payload.length },
      });
      req.once("socket", () => {
        timer = setTimeout(() => {
          settle({ kind: "retry", why: `no answer within ${timeoutMs} ms` });
          req.destroy();
        }, timeoutMs);
      });
      req.once("close", () => {
        clearTimeout(timer);
        settle({ kind: "retry", why: "the connection closed before an answer" });
      });
      req.once("upgrade", (res, socket) => {
        // A receiver that switches protocols has not acknowledged anything; its socket is ours to close.
        socket.destroy();
        settle({ kind: "reject", why: `answered ${res.statusCode ?? 101} (a protocol switch)` });
      });
      req.once("response", (res) => {
        // The status line is the receiver's answer: the body does not matter, and a connection
        // closed after it must not cause a second delivery.
        res.on("error", () => {});
        res.once("end", () => clearTimeout(timer));
        res.resume();
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) settle({ kind: "delivered", status });
        else if (status === 408 || status === 429 || status >= 500) {
          settle({ kind: "retry", why: `answered ${status}`, retryAfterMs: retryAfterMs(res.headers["retry-after"]) });
        } else {
          settle({ kind: "reject", why: `answered ${status}` });
          // A 1xx taken as final (101 without Upgrade) has no end: the socket is of no further use.
          if (status < 200) req.destroy();
        }
      });
      req.once("error", (error: NodeJS.ErrnoException) => {
        if (error instanceof BlockedAddressError) settle({ kind: "reject", why: error.message });
        else settle({ kind: "retry", why: error.code ?? error.message });
      });
      req.end(payload);
    });
  }

  /**
   * Waits `ms` before a retry, or less if the wrap-up comes first. One listener on the wrap-up signal
   * wakes every waiting retry (a listener per wait on the shared signal would pass Node's limit of 10 and
   * print MaxListenersExceededWarning whenever more than 10 callbacks wait, as in any ADF outage).
   */
  #pause(ms: number): Promise<void> {
    if (this.wrapUp.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  close(): void {
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }
}

/** Retry-After in seconds (dates are rare from callback receivers and ignored); retryDelayMs caps it. */
function retryAfterMs(header: string | undefined): number | undefined {
  const seconds = Number(header);
  return header && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined;
}
