import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";
import { metric } from "../testing/metrics.js";
import { within } from "../testing/time.js";
import { startRawReceiver, type RawStep } from "../testing/raw-receiver.js";
import { postJson, startReceiver } from "../testing/receiver.js";

/**
 * Issue 20: a receiver that answered `101 Switching Protocols` hung its callback for good: never retried,
 * never given up, its pending slot held (enough of them and every webhook got 503 until a restart, and
 * every shutdown timed out). Every way an attempt can end must settle it: here each answer a raw TCP
 * receiver can give ends in a delivery or a give-up, and the pending callback is released.
 */

const ATTEMPT_TIMEOUT_MS = 1_000;
// A bound for "it settled", far above what the two attempts and their timeouts take: a hang fails here.
const SETTLED_WITHIN_MS = 10_000;

const HOLD = (answer: string): RawStep => ({ answer, then: "hold" });

const CASES: Array<[what: string, script: RawStep[], expected: { outcome: "delivered" } | { outcome: "given up"; reason: string; attempts: number }]> = [
  ["101 Switching Protocols with Upgrade, socket kept open", [HOLD("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n")], { outcome: "given up", reason: "rejected", attempts: 1 }],
  ["101 Switching Protocols without Upgrade headers, socket kept open", [HOLD("HTTP/1.1 101 Switching Protocols\r\n\r\n")], { outcome: "given up", reason: "rejected", attempts: 1 }],
  ["informational answers (100, 102, 103) and nothing after", [HOLD("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n")], { outcome: "given up", reason: "exhausted", attempts: 2 }],
  ["half a status line, then silence", [HOLD("HTTP/1.1 20")], { outcome: "given up", reason: "exhausted", attempts: 2 }],
  ["headers that never end", [HOLD("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")], { outcome: "given up", reason: "exhausted", attempts: 2 }],
  ["the connection closed at once", ["destroy"], { outcome: "given up", reason: "exhausted", attempts: 2 }],
  ["not HTTP at all, then closed", [{ answer: "SSH-2.0-OpenSSH\r\n\r\n", then: "close" }], { outcome: "given up", reason: "exhausted", attempts: 2 }],
  ["200 whose body never completes, socket kept open", [HOLD('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"par')], { outcome: "delivered" }],
  ["503 then 200", [{ answer: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", then: "close" }, { answer: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", then: "close" }], { outcome: "delivered" }],
];

describe("reliability: every callback attempt settles", function () {
  this.timeout(30_000);
  let api: RunningApi;
  before(async () => {
    api = await startApi({
      CALLBACK_ALLOW_INSECURE: "true",
      CALLBACK_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
      CALLBACK_MAX_ATTEMPTS: "2",
      CALLBACK_RETRY_BASE_MS: "10",
      LOG_LEVEL: "info",
    });
  });
  after(() => api.close());

  for (const [what, script, expected] of CASES) {
    it(`${what}: ${expected.outcome === "delivered" ? "delivered" : `given up (${expected.reason})`}, its pending slot released`, async () => {
      const receiver = await startRawReceiver(script);
      const pendingBefore = await metric(api, "callbacks_pending");
      try {
        const receipt = await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb?sig=s3cret` });
        assert.equal(receipt.status, 202, JSON.stringify(receipt.body));
        const jobId = receipt.body?.jobId;
        const end = await within(
          api.waitForLog((line) => line.jobId === jobId && (line.msg === "callback delivered" || String(line.msg).startsWith("callback given up"))),
          SETTLED_WITHIN_MS,
          "the callback",
        );
        if (expected.outcome === "delivered") {
          assert.equal(end.msg, "callback delivered");
        } else {
          assert.match(String(end.msg), /^callback given up/);
          assert.equal(end.reason, expected.reason, JSON.stringify(end));
          assert.equal(end.attempt, expected.attempts);
          assert.equal(receiver.requests, expected.attempts);
        }
        // The slot is free again, and no connection is left held by the sender (a held one is cut at the attempt's timeout).
        await within(
          (async () => {
            while ((await metric(api, "callbacks_pending")) !== pendingBefore || receiver.open > 0) await new Promise((resolve) => setTimeout(resolve, 20));
          })(),
          SETTLED_WITHIN_MS,
          "the pending slot and the receiver's connections",
        );
      } finally {
        await receiver.close();
      }
    });
  }
});

describe("reliability: many callbacks waiting to retry", function () {
  this.timeout(30_000);

  it("more than 10 waiting retries print no MaxListenersExceededWarning (no listener per wait on a shared signal)", async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on("warning", onWarning);
    // Always 503: every callback waits to retry, for longer than the test (the wrap-up at close wakes them).
    const receiver = await startReceiver(Array.from({ length: 100 }, () => 503));
    const api = await startApi({ CALLBACK_ALLOW_INSECURE: "true", CALLBACK_RETRY_BASE_MS: "600000", CALLBACK_MAX_ATTEMPTS: "3", LOG_LEVEL: "info" });
    try {
      const CALLBACKS = 15;
      const receipts = await Promise.all(Array.from({ length: CALLBACKS }, (_, i) => postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb/${i}` })));
      for (const receipt of receipts) assert.equal(receipt.status, 202);
      await within(
        (async () => {
          while (api.logs.filter((line) => line.msg === "callback attempt failed; retrying").length < CALLBACKS) await new Promise((resolve) => setTimeout(resolve, 20));
        })(),
        SETTLED_WITHIN_MS,
        "the first attempts",
      );
      // process.emitWarning reports on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((warning) => warning.name === "MaxListenersExceededWarning").map((warning) => warning.message),
        [],
      );
    } finally {
      process.off("warning", onWarning);
      await api.close();
      await receiver.close();
    }
  });
});
