import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";
import { startReceiver } from "../testing/receiver.js";

/**
 * Beyond MAX_CONCURRENT_JOBS the API refuses with 503 and Retry-After instead of queueing without
 * bound; a burst never runs more than the limit, every accepted job is called back, and capacity
 * comes back once jobs finish.
 */

const LIMIT = 5;

async function post(url: string, body: unknown) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, unknown> };
}

async function metricsText(api: RunningApi) {
  return (await fetch(`${api.metricsUrl}/metrics`)).text();
}

describe("reliability: job limits", function () {
  this.timeout(20_000);
  let api: RunningApi;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    api = await startApi({ MAX_CONCURRENT_JOBS: String(LIMIT), CALLBACK_ALLOW_INSECURE: "true", JOB_TIMEOUT_MS: "5000", LOG_LEVEL: "warn" });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver.close();
    await api.close();
  });

  it("a burst of 100 webhook calls: exactly MAX_CONCURRENT_JOBS accepted, the rest 503 busy with Retry-After", async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => post(`${api.url}/simulate`, { durationMs: 1_500, callBackUri: `${receiver.base}/cb/burst-${i}` })),
    );
    const accepted = answers.filter((a) => a.status === 202);
    const refused = answers.filter((a) => a.status !== 202);
    assert.equal(accepted.length, LIMIT);
    for (const answer of refused) {
      assert.equal(answer.status, 503);
      assert.match(answer.retryAfter ?? "", /^\d+$/, "Retry-After in seconds");
      assert.ok(Number(answer.retryAfter) >= 1);
      assert.deepEqual(Object.keys(answer.body), ["error"]);
      assert.equal((answer.body.error as { code: string }).code, "busy");
    }
    const text = await metricsText(api);
    assert.match(text, /^jobs_running 5$/m, "the gauge shows the limit, not more");
    assert.match(text, /^jobs_total\{job="simulate",outcome="rejected"\} 95$/m);

    // While full, the Web activity (synchronous) is refused the same way.
    const sync = await post(`${api.url}/simulate`, { durationMs: 1 });
    assert.equal(sync.status, 503);
    assert.ok(sync.retryAfter);

    await receiver.waitFor(LIMIT, 5_000);
    assert.equal(receiver.delivered.length, LIMIT, "every accepted job is called back, and only those");
  });

  it("capacity comes back once jobs finish", async () => {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const text = await metricsText(api);
      if (/^jobs_running 0$/m.test(text)) break;
      assert.ok(Date.now() < deadline, "jobs_running returns to 0");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const answers = await Promise.all(
      Array.from({ length: LIMIT }, (_, i) => post(`${api.url}/simulate`, { durationMs: 10, callBackUri: `${receiver.base}/cb/again-${i}` })),
    );
    assert.deepEqual(answers.map((a) => a.status), Array(LIMIT).fill(202));
    await receiver.waitFor(2 * LIMIT, 5_000);
  });

  it("memory stays bounded: 1,000 refused calls leave no jobs behind", async () => {
    const hold = await Promise.all(
      Array.from({ length: LIMIT }, (_, i) => post(`${api.url}/simulate`, { durationMs: 2_500, callBackUri: `${receiver.base}/cb/hold-${i}` })),
    );
    assert.deepEqual(hold.map((a) => a.status), Array(LIMIT).fill(202));
    let refused = 0;
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 100 }, (_, i) => post(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb/refused-${batch}-${i}` })),
      );
      refused += answers.filter((a) => a.status === 503).length;
    }
    assert.equal(refused, 1_000);
    assert.equal(api.drain.pending, LIMIT, "only the accepted jobs are tracked");
    await receiver.waitFor(3 * LIMIT, 8_000);
    assert.ok(!receiver.delivered.some((d) => d.path.includes("refused")), "a refused call is never called back");
  });
});
