import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";
import { flakyReceiver, sendersDone, startJobs } from "../testing/flaky-receiver.js";
import { metric } from "../testing/metrics.js";
import { postJson } from "../testing/receiver.js";
import { settle } from "../testing/time.js";

/**
 * Callback receivers that misbehave, many jobs at once: each callback is acknowledged exactly once
 * (never twice), and a give-up is logged with the job's id and counted in /metrics.
 */

// An attempt's timeout far beyond what answering takes even on a busy machine: a 200 that missed it
// would be retried, and "delivered exactly once" would fail for the machine's sake, not the API's.
// Only the "hang" steps wait it out.
const ATTEMPT_TIMEOUT_MS = 2_000;
const FAST = {
  CALLBACK_ALLOW_INSECURE: "true",
  CALLBACK_RETRY_BASE_MS: "10",
  CALLBACK_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
  MAX_CONCURRENT_JOBS: "500",
  LOG_LEVEL: "info",
};

describe("reliability: callback faults, many jobs at once", function () {
  this.timeout(20_000);
  let api: RunningApi;
  before(async () => {
    api = await startApi({ ...FAST, CALLBACK_MAX_ATTEMPTS: "8" });
  });
  after(() => api.close());

  it("503, a dropped connection and a hang beyond CALLBACK_TIMEOUT_MS, then 200: each delivered exactly once", async () => {
    const receiver = await flakyReceiver([503, "destroy", "hang", 200]);
    try {
      const retriesBefore = await metric(api, "callback_retries_total", 0);
      const { paths, jobIds } = await startJobs(api, receiver.base, "flaky", 40);
      await receiver.waitForAcks(paths, 15_000);
      await sendersDone(api, jobIds);
      for (const path of paths) {
        assert.equal(receiver.acks.get(path), 1, `${path} acknowledged once`);
        assert.equal(receiver.attempts.get(path), 4, `${path} took four attempts`);
      }
      assert.equal((await metric(api, "callback_retries_total", 0)) - retriesBefore, 3 * paths.length);
    } finally {
      await receiver.close();
    }
  });

  it("a connection closed mid-response after a 200 status line counts as delivered: never sent twice", async () => {
    const receiver = await flakyReceiver(["close-mid-response"]);
    try {
      const { paths, jobIds } = await startJobs(api, receiver.base, "midway", 20);
      await receiver.waitForAcks(paths, 15_000);
      await sendersDone(api, jobIds);
      for (const path of paths) {
        assert.equal(receiver.attempts.get(path), 1, `${path}: no retry after a 200`);
        assert.equal(receiver.acks.get(path), 1);
      }
    } finally {
      await receiver.close();
    }
  });

  it("a receiver that answers 200 only after CALLBACK_TIMEOUT_MS is retried until one answer arrives in time", async () => {
    const receiver = await flakyReceiver(["late-ack", 200]);
    try {
      const { paths, jobIds } = await startJobs(api, receiver.base, "slow", 10);
      await receiver.waitForAcks(paths, 15_000);
      await sendersDone(api, jobIds);
      assert.equal(receiver.lateAnswers, paths.length, "every first attempt was cut by the sender's timeout");
      for (const path of paths) {
        assert.equal(receiver.attempts.get(path), 2, path);
        // The first, timed-out request was aborted before its late 200, so only the retry acknowledged.
        assert.equal(receiver.acks.get(path), 1, `${path} acknowledged once`);
      }
    } finally {
      await receiver.close();
    }
  });

  it("a receiver that refuses connections at first is called once it listens", async () => {
    // Take a free port, release it, and only listen on it a little after the jobs start.
    const probe = await flakyReceiver([]);
    const { port } = probe;
    await probe.close();
    const { paths, jobIds } = await startJobs(api, `http://127.0.0.1:${port}`, "refused", 10);
    await settle(50); // let some first attempts be refused (it does not matter how many)
    const receiver = await flakyReceiver([], port);
    try {
      await receiver.waitForAcks(paths, 15_000);
      await sendersDone(api, jobIds);
      for (const path of paths) assert.equal(receiver.acks.get(path), 1, path);
    } finally {
      await receiver.close();
    }
  });
});

describe("reliability: callback give-ups are logged and counted", function () {
  this.timeout(20_000);
  let api: RunningApi;
  before(async () => {
    api = await startApi({ ...FAST, CALLBACK_MAX_ATTEMPTS: "3" });
  });
  after(() => api.close());

  const giveUpLines = () => api.logs.filter((line) => String(line.msg).startsWith("callback given up"));

  it("a receiver down for good, or always 503: exhausted after CALLBACK_MAX_ATTEMPTS, logged with the job id, counted", async () => {
    const down = await flakyReceiver([]);
    const downBase = down.base;
    await down.close();
    const failing = await flakyReceiver([503, 503, 503, 503]);
    try {
      const before = await metric(api, 'callback_give_ups_total{reason="exhausted"}', 0);
      const receipts = await Promise.all([
        postJson(`${api.url}/helloworld`, { callBackUri: `${downBase}/cb/down?sig=s3cret` }),
        postJson(`${api.url}/helloworld`, { callBackUri: `${failing.base}/cb/503?sig=s3cret` }),
      ]);
      const jobIds = receipts.map((receipt) => receipt.body?.jobId as string);
      await sendersDone(api, jobIds);
      assert.equal(giveUpLines().filter((line) => jobIds.includes(line.jobId as string)).length, 2, "both give-ups logged");
      assert.equal((await metric(api, 'callback_give_ups_total{reason="exhausted"}', 0)) - before, 2);
      assert.equal(failing.attempts.get("/cb/503?sig=s3cret"), 3, "exactly CALLBACK_MAX_ATTEMPTS attempts");
      assert.equal(failing.acks.size, 0);
      for (const line of giveUpLines()) assert.equal(line.level, "error");
      assert.ok(!JSON.stringify(api.logs).includes("s3cret"), "the callBackUri's secret never reaches the log");
    } finally {
      await failing.close();
    }
  });

  it("a 4xx answer is not retried: one attempt, a give-up counted as rejected", async () => {
    const receiver = await flakyReceiver([404]);
    try {
      const before = await metric(api, 'callback_give_ups_total{reason="rejected"}', 0);
      const receipt = await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb/gone` });
      assert.equal(receipt.status, 202);
      await sendersDone(api, [receipt.body?.jobId as string]);
      assert.ok(giveUpLines().some((line) => line.jobId === receipt.body?.jobId), "the give-up is logged");
      assert.equal(receiver.attempts.get("/cb/gone"), 1);
      assert.equal((await metric(api, 'callback_give_ups_total{reason="rejected"}', 0)) - before, 1);
    } finally {
      await receiver.close();
    }
  });
});
