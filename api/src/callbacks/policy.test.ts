import assert from "node:assert/strict";

import { Registry } from "prom-client";

import { loadConfig } from "../config.js";
import { createLogger } from "../framework/logging.js";
import { startReceiver } from "../testing/receiver.js";
import { CallbackSender } from "./sender.js";
import * as callbackPolicy from "./policy.js";
import { createJobMetrics } from "../activities/metrics.js";

const { CALLBACK_DEFAULTS, MAX_RETRY_DELAY_MS, callbackRetryWindowMs, retryDelayMs } = callbackPolicy;

describe("callback retry policy (shared with the stack)", () => {
  it("is what the settings default to", () => {
    const config = loadConfig({});
    assert.equal(config.CALLBACK_TIMEOUT_MS, CALLBACK_DEFAULTS.CALLBACK_TIMEOUT_MS);
    assert.equal(config.CALLBACK_MAX_ATTEMPTS, CALLBACK_DEFAULTS.CALLBACK_MAX_ATTEMPTS);
    assert.equal(config.CALLBACK_RETRY_BASE_MS, CALLBACK_DEFAULTS.CALLBACK_RETRY_BASE_MS);
  });

  it("waits the jittered backoff, or a longer Retry-After, never more than the cap", () => {
    assert.equal(retryDelayMs(1, 500, undefined, 0), 250);
    assert.equal(retryDelayMs(3, 500, undefined, 1), 2_000);
    assert.equal(retryDelayMs(20, 500, undefined, 1), MAX_RETRY_DELAY_MS);
    assert.equal(retryDelayMs(1, 500, 4_000, 1), 4_000);
    assert.equal(retryDelayMs(1, 500, 3_600_000, 1), MAX_RETRY_DELAY_MS);
  });

  it("the worst-case window: every attempt timing out, the longest wait before each retry", () => {
    // 10 attempts of 10 s, and 9 waits of up to 30 s (a receiver may ask for that with Retry-After).
    assert.equal(callbackRetryWindowMs(), 370_000);
    assert.equal(callbackRetryWindowMs({ CALLBACK_MAX_ATTEMPTS: 3, CALLBACK_TIMEOUT_MS: 1_000, CALLBACK_RETRY_BASE_MS: 100 }), 3 * 1_000 + 2 * MAX_RETRY_DELAY_MS);
    assert.equal(callbackRetryWindowMs({ CALLBACK_MAX_ATTEMPTS: 1 }), 10_000);
  });

  it("the sender waits what a receiver's Retry-After asks, capped as the window assumes", async () => {
    const receiver = await startReceiver([
      { status: 503, headers: { "retry-after": "0.25" } },
      { status: 429, headers: { "retry-after": "3600" } },
    ]);
    const lines: Array<Record<string, unknown>> = [];
    const wrapUp = new AbortController();
    const log = createLogger("debug", {
      write: (line: string) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        lines.push(entry);
        // The second wait would be the cap (30 s): cut it short once it is logged.
        if (entry.attempt === 2 && entry.retryInMs !== undefined) wrapUp.abort();
      },
    });
    const sender = new CallbackSender({ timeoutMs: 5_000, maxAttempts: 5, retryBaseMs: 1, allowInsecure: true }, createJobMetrics(new Registry()), wrapUp.signal);
    try {
      const delivered = await sender.deliver(new URL(`${receiver.base}/cb`), Buffer.from('{"Output":{},"StatusCode":"200"}'), log);
      assert.equal(delivered, true);
      assert.deepEqual(
        lines.filter((l) => l.retryInMs !== undefined).map((l) => [l.attempt, l.retryInMs]),
        [
          [1, 250],
          [2, MAX_RETRY_DELAY_MS],
        ],
      );
      assert.equal(receiver.attempts, 3);
    } finally {
      sender.close();
      await receiver.close();
    }
  });
});
