import assert from "node:assert/strict";
import { request } from "node:http";

import { z } from "zod";

import { jobs } from "../jobs/index.js";
import { defineJob } from "../jobs/job.js";
import { startApi, type RunningApi } from "../testing/api.js";
import { gatedJob } from "../testing/jobs.js";
import { metric } from "../testing/metrics.js";
import { postJson, startReceiver } from "../testing/receiver.js";

/**
 * The Webhook activity has no retry policy, so a refusal fails the pipeline for good: beyond
 * MAX_CONCURRENT_JOBS webhook calls queue, and only what cannot be held (MAX_QUEUED_JOBS, pending
 * callbacks, MAX_QUEUED_BYTES) is refused, up front, with 503 and Retry-After.
 */

const INSECURE = { CALLBACK_ALLOW_INSECURE: "true", CALLBACK_RETRY_BASE_MS: "10", LOG_LEVEL: "info" };

function assertBusy(answer: { status: number; headers: Headers; body?: { error?: { code: string; message: string } } }, why: RegExp) {
  assert.equal(answer.status, 503);
  assert.match(answer.headers.get("retry-after") ?? "", /^[1-9]\d*$/);
  assert.equal(answer.body?.error?.code, "busy");
  assert.match(answer.body?.error?.message ?? "", why);
}

describe("webhook queue: beyond MAX_CONCURRENT_JOBS, accepted and queued", function () {
  this.timeout(10_000);

  it("queues up to MAX_QUEUED_JOBS (202), refuses beyond (503 busy, Retry-After), and runs the queue oldest first", async () => {
    const gated = gatedJob();
    const api = await startApi({ ...INSECURE, MAX_CONCURRENT_JOBS: "2", MAX_QUEUED_JOBS: "3" }, { jobs: [...jobs, gated.job] });
    const receiver = await startReceiver();
    try {
      const tags = ["a", "b", "c", "d", "e"];
      for (const tag of tags) {
        const res = await postJson(`${api.url}/gated`, { tag, callBackUri: `${receiver.base}/cb/${tag}` });
        assert.equal(res.status, 202, tag);
      }
      await gated.until("start", 2);
      assert.equal(await metric(api, "jobs_running"), 2);
      assert.equal(await metric(api, "jobs_queued"), 3);
      assert.ok((await metric(api, "queued_bytes")) > 0, "queued inputs are counted in bytes");

      assertBusy(await postJson(`${api.url}/gated`, { tag: "f", callBackUri: `${receiver.base}/cb/f` }), /MAX_QUEUED_JOBS/);
      assert.equal(await metric(api, 'jobs_total{job="gated",outcome="rejected"}'), 1);
      // A Web activity call is not queued: it has a retry policy, and waiting would spend its httpRequestTimeout.
      assertBusy(await postJson(`${api.url}/helloworld`, {}), /jobs are running/);

      gated.open();
      const delivered = await receiver.waitFor(tags.length);
      assert.deepEqual(gated.tags, tags, "started in the order accepted");
      assert.deepEqual(delivered.map((d) => d.path).sort(), tags.map((tag) => `/cb/${tag}`));
      assert.ok(delivered.every((d) => d.body.StatusCode === "200"));
      assert.equal(await metric(api, "jobs_queued"), 0);
      assert.equal(await metric(api, "queued_bytes"), 0);
      assert.equal((await postJson(`${api.url}/helloworld`, {})).status, 200, "capacity is back");
    } finally {
      gated.open();
      await receiver.close();
      await api.close();
    }
  });

  it("keeps the timeout from acceptance: a job that never gets a slot is called back JobTimedOut, never started", async () => {
    const gated = gatedJob();
    const api = await startApi({ ...INSECURE, MAX_CONCURRENT_JOBS: "1", JOB_TIMEOUT_MS: "300" }, { jobs: [...jobs, gated.job] });
    const receiver = await startReceiver();
    try {
      // The first job ignores its signal, so it holds the only slot past its own timeout (a slot is freed
      // only when the job really ends): the queued one's 300 ms run out while it waits.
      assert.equal((await postJson(`${api.url}/gated`, { tag: "first", ignoreSignal: true, callBackUri: `${receiver.base}/cb/first` })).status, 202);
      await gated.until("start", 1);
      assert.equal((await postJson(`${api.url}/gated`, { tag: "queued", callBackUri: `${receiver.base}/cb/queued` })).status, 202);
      const delivered = await receiver.waitFor(2);
      const queued = delivered.find((d) => d.path === "/cb/queued")!;
      assert.equal(queued.body.StatusCode, "504");
      assert.equal((queued.body.Error as { ErrorCode: string }).ErrorCode, "JobTimedOut");
      assert.match((queued.body.Error as { Message: string }).Message, /never started/);
      assert.deepEqual(gated.tags, ["first"]);
    } finally {
      gated.open();
      await receiver.close();
      await api.close();
    }
  });

  it("times each job out at its own deadline, counted from its own acceptance (one timer serves them all)", async () => {
    const gated = gatedJob();
    const api = await startApi({ ...INSECURE, MAX_CONCURRENT_JOBS: "3", JOB_TIMEOUT_MS: "1000" }, { jobs: [...jobs, gated.job] });
    const receiver = await startReceiver();
    const post = async (tag: string) => assert.equal((await postJson(`${api.url}/gated`, { tag, callBackUri: `${receiver.base}/cb/${tag}` })).status, 202);
    try {
      await post("early");
      await gated.until("start", 1);
      await new Promise((resolve) => setTimeout(resolve, 500)); // a gap, not a measurement
      await post("late");
      await gated.until("abort", 1);
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(gated.aborted, 1, "the later job still runs when the earlier one's time is up");
      await gated.until("abort", 2);
      // Nothing is running now: the next job's deadline needs the timer set again.
      await post("after");
      await gated.until("abort", 3);
      const delivered = await receiver.waitFor(3);
      assert.deepEqual(
        delivered.map((d) => [d.path, (d.body.Error as { ErrorCode: string }).ErrorCode]),
        [
          ["/cb/early", "JobTimedOut"],
          ["/cb/late", "JobTimedOut"],
          ["/cb/after", "JobTimedOut"],
        ],
      );
    } finally {
      gated.open();
      await receiver.close();
      await api.close();
    }
  });

  it("a queued job whose input no longer checks when it starts fails, and its slot passes on", async () => {
    const gated = gatedJob();
    // Checks once (at acceptance), refuses the second time (when the queued job starts and its input is made again).
    let checks = 0;
    const fickle = defineJob({
      name: "fickle",
      description: "Input valid only once.",
      input: z.object({}).refine(() => ++checks === 1, "checked twice"),
      run: async () => ({ ran: true }),
    });
    const api = await startApi({ ...INSECURE, MAX_CONCURRENT_JOBS: "1" }, { jobs: [...jobs, gated.job, fickle] });
    const receiver = await startReceiver();
    try {
      assert.equal((await postJson(`${api.url}/gated`, { tag: "holder", callBackUri: `${receiver.base}/cb/holder` })).status, 202);
      await gated.until("start", 1);
      assert.equal((await postJson(`${api.url}/fickle`, { callBackUri: `${receiver.base}/cb/fickle` })).status, 202);
      gated.open();
      const delivered = await receiver.waitFor(2);
      const fickleCallback = delivered.find((d) => d.path === "/cb/fickle")!;
      assert.equal(fickleCallback.body.StatusCode, "500");
      assert.equal((await postJson(`${api.url}/helloworld`, {})).status, 200, "the slot was released");
    } finally {
      gated.open();
      await receiver.close();
      await api.close();
    }
  });

  it("at the drain's wrap-up, jobs still queued are called back InstanceShuttingDown (and running ones stopped)", async () => {
    const gated = gatedJob();
    const api = await startApi({ ...INSECURE, MAX_CONCURRENT_JOBS: "1" }, { jobs: [...jobs, gated.job] });
    const receiver = await startReceiver();
    try {
      for (const tag of ["running", "queued-1", "queued-2"]) {
        assert.equal((await postJson(`${api.url}/gated`, { tag, callBackUri: `${receiver.base}/cb/${tag}` })).status, 202);
      }
      await gated.until("start", 1);
      api.drain.begin();
      api.drain.wrapUpNow();
      const delivered = await receiver.waitFor(3);
      for (const { body } of delivered) {
        assert.equal(body.StatusCode, "503");
        assert.equal((body.Error as { ErrorCode: string }).ErrorCode, "InstanceShuttingDown");
      }
      assert.deepEqual(gated.tags, ["running"], "queued jobs never start once the wrap-up has come");
      assert.equal(await metric(api, 'jobs_total{job="gated",outcome="interrupted"}'), 3);
    } finally {
      gated.open();
      await receiver.close();
      await api.close();
    }
  });
});

describe("bounded pending callbacks and queued bytes", function () {
  this.timeout(10_000);

  it("while MAX_PENDING_CALLBACKS callbacks wait on hung hosts, new webhook calls are refused up front", async () => {
    const api = await startApi({ ...INSECURE, MAX_PENDING_CALLBACKS: "4", CALLBACK_TIMEOUT_MS: "60000" });
    // Two hosts, each within its share (half of MAX_PENDING_CALLBACKS): together they fill the budget.
    const receivers = [await startReceiver(["hang", "hang"]), await startReceiver(["hang", "hang"])];
    try {
      for (let i = 0; i < 4; i++) {
        assert.equal((await postJson(`${api.url}/helloworld`, { callBackUri: `${receivers[i % 2]!.base}/cb/${i}` })).status, 202);
      }
      await Promise.all(receivers.map((receiver) => receiver.untilAttempts(2)));
      assert.equal(await metric(api, "callbacks_pending"), 4);
      const third = await startReceiver();
      try {
        assertBusy(await postJson(`${api.url}/helloworld`, { callBackUri: `${third.base}/cb/4` }), /MAX_PENDING_CALLBACKS/);
      } finally {
        await third.close();
      }
      assert.equal((await postJson(`${api.url}/helloworld`, {})).status, 200, "Web activity calls hold no callback and still run");
    } finally {
      await Promise.all(receivers.map((receiver) => receiver.close()));
      await api.close();
    }
  });

  it("one host holds at most half of MAX_PENDING_CALLBACKS: a flood of calls whose callbacks hang leaves room for the other hosts", async () => {
    const api = await startApi({ ...INSECURE, MAX_PENDING_CALLBACKS: "10", CALLBACK_TIMEOUT_MS: "60000" });
    const hung = await startReceiver(Array.from({ length: 10 }, () => "hang" as const));
    const good = await startReceiver();
    try {
      const answers = [];
      for (let i = 0; i < 10; i++) answers.push((await postJson(`${api.url}/helloworld`, { callBackUri: `${hung.base}/cb/${i}` })).status);
      await hung.untilAttempts(5);
      assert.deepEqual(answers.slice(0, 5), [202, 202, 202, 202, 202]);
      assertBusy(await postJson(`${api.url}/helloworld`, { callBackUri: `${hung.base}/cb/more` }), /callBackUri's host/);
      for (let i = 0; i < 5; i++) assert.equal((await postJson(`${api.url}/helloworld`, { callBackUri: `${good.base}/cb/${i}` })).status, 202);
      assert.equal((await good.waitFor(5)).length, 5, "the other host is called back all along");
    } finally {
      await hung.close();
      await good.close();
      await api.close();
    }
  });

  it("the byte budget covers pending callbacks: a call whose input would pass MAX_QUEUED_BYTES is refused", async () => {
    // Three 20 KB outputs wait on hung hosts (one each: a host's share is half the budget); a fourth
    // 20 KB call would take the budget past 64 KB.
    const api = await startApi({ ...INSECURE, MAX_QUEUED_BYTES: "64kb", BODY_LIMIT: "32kb", MAX_OUTPUT_BYTES: "32kb", CALLBACK_TIMEOUT_MS: "60000" });
    const hung = [await startReceiver(["hang"]), await startReceiver(["hang"]), await startReceiver(["hang"])];
    const receiver = await startReceiver();
    const output = { data: "x".repeat(20_000) };
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal((await postJson(`${api.url}/simulate`, { output, callBackUri: `${hung[i]!.base}/cb/${i}` })).status, 202);
      }
      await Promise.all(hung.map((each) => each.untilAttempts(1)));
      const held = await metric(api, "queued_bytes");
      assert.ok(held > 60_000 && held < 62_000, `the three callbacks hold ${held} bytes`);
      assertBusy(await postJson(`${api.url}/simulate`, { output, callBackUri: `${receiver.base}/cb/3` }), /MAX_QUEUED_BYTES/);
      // A body the budget has no room for is refused on its Content-Length, before it is read: this one
      // is never sent at all, and the answer comes anyway.
      const unread = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${api.url}/simulate`, { method: "POST", headers: { "content-type": "application/json", "content-length": "30000" } });
        req.once("response", (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.once("end", () => {
            resolve({ status: res.statusCode ?? 0, body });
            req.destroy();
          });
        });
        req.once("error", reject);
        req.flushHeaders();
      });
      assert.equal(unread.status, 503);
      assert.match(unread.body, /"busy".*MAX_QUEUED_BYTES/);
      // A small call still fits.
      assert.equal((await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb/small` })).status, 202);
    } finally {
      await Promise.all([...hung, receiver].map((each) => each.close()));
      await api.close();
    }
  });

  it("one host's work holds at most half of MAX_QUEUED_BYTES; a call larger than that is still taken when its host holds nothing else", async () => {
    const api = await startApi({ ...INSECURE, MAX_QUEUED_BYTES: "64kb", BODY_LIMIT: "40kb", MAX_OUTPUT_BYTES: "40kb", CALLBACK_TIMEOUT_MS: "60000" });
    const hung = await startReceiver(["hang", "hang"]);
    const other = await startReceiver(["hang"]);
    try {
      assert.equal((await postJson(`${api.url}/simulate`, { output: { data: "x".repeat(20_000) }, callBackUri: `${hung.base}/cb/0` })).status, 202);
      await hung.untilAttempts(1);
      assertBusy(await postJson(`${api.url}/simulate`, { output: { data: "x".repeat(20_000) }, callBackUri: `${hung.base}/cb/1` }), /half of MAX_QUEUED_BYTES/);
      assert.equal((await postJson(`${api.url}/simulate`, { output: { data: "x".repeat(36_000) }, callBackUri: `${other.base}/cb/0` })).status, 202);
    } finally {
      await hung.close();
      await other.close();
      await api.close();
    }
  });

  it("the byte budget covers queued jobs' inputs too", async () => {
    const gated = gatedJob();
    const api = await startApi({ ...INSECURE, MAX_CONCURRENT_JOBS: "1", MAX_QUEUED_BYTES: "8kb", BODY_LIMIT: "4kb", MAX_OUTPUT_BYTES: "4kb" }, { jobs: [...jobs, gated.job] });
    // One host for each call: a host's share is half the budget.
    const receivers = [await startReceiver(), await startReceiver(), await startReceiver(), await startReceiver()];
    const tag = "q".repeat(3_000);
    try {
      assert.equal((await postJson(`${api.url}/gated`, { tag: "running", callBackUri: `${receivers[0]!.base}/cb/r` })).status, 202);
      await gated.until("start", 1);
      assert.equal((await postJson(`${api.url}/gated`, { tag, callBackUri: `${receivers[1]!.base}/cb/q1` })).status, 202);
      assert.equal((await postJson(`${api.url}/gated`, { tag, callBackUri: `${receivers[2]!.base}/cb/q2` })).status, 202);
      assert.ok((await metric(api, "queued_bytes")) > 6_000);
      assertBusy(await postJson(`${api.url}/gated`, { tag, callBackUri: `${receivers[3]!.base}/cb/q3` }), /MAX_QUEUED_BYTES/);
      gated.open();
      await Promise.all(receivers.slice(0, 3).map((receiver) => receiver.waitFor(1)));
      assert.deepEqual(gated.tags.map((t) => t.length), [7, 3_000, 3_000], "queued inputs come back whole when their jobs start");
    } finally {
      gated.open();
      await Promise.all(receivers.map((receiver) => receiver.close()));
      await api.close();
    }
  });
});

describe("MAX_OUTPUT_BYTES", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ ...INSECURE, MAX_OUTPUT_BYTES: "1kb" });
  });
  after(() => api.close());

  it("an output over it fails the job as JobOutputTooLarge, in the callback with an empty Output", async () => {
    const receiver = await startReceiver();
    try {
      assert.equal((await postJson(`${api.url}/simulate`, { output: { data: "x".repeat(2_000) }, callBackUri: `${receiver.base}/cb` })).status, 202);
      const [callback] = await receiver.waitFor(1);
      assert.deepEqual(callback!.body.Output, {});
      assert.equal(callback!.body.StatusCode, "500");
      assert.equal((callback!.body.Error as { ErrorCode: string }).ErrorCode, "JobOutputTooLarge");
    } finally {
      await receiver.close();
    }
  });

  it("and in a Web activity's answer; an output of exactly MAX_OUTPUT_BYTES passes", async () => {
    const tooLarge = await postJson(`${api.url}/simulate`, { output: { data: "x".repeat(2_000) } });
    assert.equal(tooLarge.status, 500);
    assert.equal(tooLarge.body?.error?.code, "JobOutputTooLarge");
    const exact = { data: `${"é".repeat(506)}x` }; // é is two UTF-8 bytes: bytes are counted, not characters
    assert.equal(Buffer.byteLength(JSON.stringify(exact)), 1024);
    const fits = await postJson(`${api.url}/simulate`, { output: exact });
    assert.equal(fits.status, 200);
    const over = await postJson(`${api.url}/simulate`, { output: { data: `${exact.data}x` } });
    assert.equal(over.body?.error?.code, "JobOutputTooLarge");
    assert.equal(await metric(api, 'jobs_total{job="simulate",outcome="failed"}'), 3);
  });
});
