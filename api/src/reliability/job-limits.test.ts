import assert from "node:assert/strict";

import { jobs } from "../jobs/index.js";
import { startApi, type RunningApi } from "../testing/api.js";
import { postJsonForRetry as post } from "../testing/http.js";
import { gatedJob } from "../testing/jobs.js";
import { metricsText } from "../testing/metrics.js";
import { startReceiver } from "../testing/receiver.js";

/**
 * With no queue (MAX_QUEUED_JOBS=0), beyond MAX_CONCURRENT_JOBS the API refuses with 503 and Retry-After
 * (with a queue, it refuses beyond MAX_QUEUED_JOBS: see activities/queue.test.ts); a burst never runs more than the limit, every accepted job is called back, and capacity
 * comes back once jobs finish. The jobs that hold the slots run until the test lets them finish, so no
 * burst has to beat a clock, however busy the machine.
 */

const LIMIT = 5;

describe("reliability: job limits", function () {
  this.timeout(20_000);
  let api: RunningApi;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const gated = gatedJob();
  before(async () => {
    api = await startApi(
      { MAX_CONCURRENT_JOBS: String(LIMIT), MAX_QUEUED_JOBS: "0", CALLBACK_ALLOW_INSECURE: "true", JOB_TIMEOUT_MS: "60000", LOG_LEVEL: "warn" },
      { jobs: [...jobs, gated.job] },
    );
    receiver = await startReceiver();
  });
  after(async () => {
    gated.open();
    await receiver.close();
    await api.close();
  });

  it("a burst of 100 webhook calls: exactly MAX_CONCURRENT_JOBS accepted, the rest 503 busy with Retry-After", async () => {
    gated.close();
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => post(`${api.url}/gated`, { callBackUri: `${receiver.base}/cb/burst-${i}` })),
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
    assert.match(text, /^jobs_total\{job="gated",outcome="rejected"\} 95$/m);
    assert.equal(gated.started, LIMIT, "a refused call never starts its job");

    // While full, the Web activity (synchronous) is refused the same way.
    const sync = await post(`${api.url}/simulate`, { durationMs: 1 });
    assert.equal(sync.status, 503);
    assert.ok(sync.retryAfter);

    gated.open();
    await receiver.waitFor(LIMIT);
    assert.equal(receiver.delivered.length, LIMIT, "every accepted job is called back, and only those");
  });

  it("capacity comes back once jobs finish", async () => {
    // The callbacks above were sent after their jobs had ended and released their slots.
    assert.match(await metricsText(api), /^jobs_running 0$/m);
    const answers = await Promise.all(
      Array.from({ length: LIMIT }, (_, i) => post(`${api.url}/simulate`, { durationMs: 10, callBackUri: `${receiver.base}/cb/again-${i}` })),
    );
    assert.deepEqual(answers.map((a) => a.status), Array(LIMIT).fill(202));
    await receiver.waitFor(2 * LIMIT);
  });

  it("memory stays bounded: 1,000 refused calls leave no jobs behind", async () => {
    gated.close();
    const hold = await Promise.all(
      Array.from({ length: LIMIT }, (_, i) => post(`${api.url}/gated`, { callBackUri: `${receiver.base}/cb/hold-${i}` })),
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
    gated.open();
    await receiver.waitFor(3 * LIMIT);
    assert.ok(!receiver.delivered.some((d) => d.path.includes("refused")), "a refused call is never called back");
  });
});
