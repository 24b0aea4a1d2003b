import assert from "node:assert/strict";
import { request } from "node:http";

import { z } from "zod";

import { jobs } from "../jobs/index.js";
import { defineJob } from "../jobs/job.js";
import { startApi, type RunningApi } from "../testing/api.js";
import { metric } from "../testing/metrics.js";
import { circularJob, gatedJob } from "../testing/jobs.js";
import { startApiProcess } from "../testing/process.js";
import { postJson, startReceiver } from "../testing/receiver.js";

// Fast retries so the fault cases finish quickly. The timeouts stay far above what answering takes on a
// busy machine (a 200 that misses the attempt's timeout is retried, and the attempt counts change):
// only the cases that hang on purpose wait them out.
const FAST = { CALLBACK_ALLOW_INSECURE: "true", CALLBACK_RETRY_BASE_MS: "20", CALLBACK_TIMEOUT_MS: "2000" };

describe("webhook activity: 202, then a callback ADF understands", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ ...FAST, JOB_TIMEOUT_MS: "1000" });
  });
  after(() => api.close());

  it("accepts with a receipt and calls back the output with StatusCode 200", async () => {
    const receiver = await startReceiver();
    try {
      const accepted = await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb/1?sig=s3cret` });
      assert.equal(accepted.status, 202);
      assert.equal(accepted.body?.status, "accepted");
      assert.match(String(accepted.body?.jobId), /^[0-9a-f-]{36}$/);
      const [callback] = await receiver.waitFor(1);
      assert.equal(callback!.path, "/cb/1?sig=s3cret");
      assert.deepEqual(callback!.body, { Output: { message: "Hello World" }, StatusCode: "200" });
    } finally {
      await receiver.close();
    }
  });

  it("reports a job's failure as Error and StatusCode (reportStatusOnCallBack)", async () => {
    const receiver = await startReceiver();
    try {
      const input = { fail: true, statusCode: 409, errorCode: "RowsRejected", message: "3 rows rejected", output: { rejected: 3 } };
      const accepted = await postJson(`${api.url}/simulate`, { ...input, callBackUri: `${receiver.base}/cb` });
      assert.equal(accepted.status, 202);
      const [callback] = await receiver.waitFor(1);
      assert.deepEqual(callback!.body, {
        Output: { rejected: 3 },
        Error: { ErrorCode: "RowsRejected", Message: "3 rows rejected" },
        StatusCode: "409",
      });
    } finally {
      await receiver.close();
    }
  });

  it("reports a job that outlives JOB_TIMEOUT_MS as a timeout failure instead of hanging", async () => {
    const receiver = await startReceiver();
    try {
      await postJson(`${api.url}/simulate`, { durationMs: 60_000, callBackUri: `${receiver.base}/cb` });
      const [callback] = await receiver.waitFor(1);
      assert.equal(callback!.body.StatusCode, "504");
      assert.equal((callback!.body.Error as { ErrorCode: string }).ErrorCode, "JobTimedOut");
      assert.ok(await metric(api, 'jobs_total{job="simulate",outcome="timed_out"}', 0) >= 1);
    } finally {
      await receiver.close();
    }
  });

  it("refuses invalid input before accepting, so the activity fails fast", async () => {
    const res = await postJson(`${api.url}/simulate`, { durationMs: "soon", callBackUri: "http://127.0.0.1:9/cb" });
    assert.equal(res.status, 400);
    assert.equal(res.body?.error?.code, "invalid_input");
  });

  it("never logs the callBackUri's path or query", async () => {
    const receiver = await startReceiver();
    try {
      await postJson(`${api.url}/test`, { callBackUri: `${receiver.base}/callback/abc-secret-path?token=t0ps3cret` });
      await receiver.waitFor(1);
      const logs = JSON.stringify(api.logs);
      assert.doesNotMatch(logs, /t0ps3cret|abc-secret-path/);
      assert.match(logs, /"callbackHost":"127\.0\.0\.1:\d+"/);
      assert.ok(api.logs.filter((l) => l.msg === "callback delivered").every((l) => typeof l.jobId === "string"));
    } finally {
      await receiver.close();
    }
  });
});

describe("jobs that misbehave", () => {
  it("a job that ignores its signal keeps its slot until it really ends, after its caller got the timeout", async () => {
    const stubborn = gatedJob("stubborn");
    const api = await startApi({ JOB_TIMEOUT_MS: "50", MAX_CONCURRENT_JOBS: "1" }, { jobs: [...jobs, stubborn.job] });
    try {
      assert.equal((await postJson(`${api.url}/stubborn`, { ignoreSignal: true })).status, 504);
      assert.equal(stubborn.ended, 0, "the job still runs after its timeout");
      assert.equal((await postJson(`${api.url}/helloworld`, {})).status, 503, "the slot is still taken");
      stubborn.open();
      while (stubborn.ended === 0) await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve)); // the slot is released when the job's promise settles
      assert.equal((await postJson(`${api.url}/helloworld`, {})).status, 200);
    } finally {
      await api.close();
    }
  });

  it("a job that returns no JSON object fails as JobOutputInvalid", async () => {
    const hollow = defineJob({ name: "hollow", description: "Returns nothing.", input: z.object({}), run: async () => undefined as never });
    const api = await startApi({}, { jobs: [...jobs, hollow] });
    try {
      const res = await postJson(`${api.url}/hollow`, {});
      assert.equal(res.status, 500);
      assert.equal(res.body?.error?.code, "JobOutputInvalid");
    } finally {
      await api.close();
    }
  });
});

describe("a job whose output cannot be serialised", () => {
  it("still calls back: a JobOutputInvalid failure instead of silence", async () => {
    const api = await startApi(FAST, { jobs: [...jobs, circularJob] });
    const receiver = await startReceiver();
    try {
      assert.equal((await postJson(`${api.url}/circular`, { callBackUri: `${receiver.base}/cb` })).status, 202);
      const [callback] = await receiver.waitFor(1);
      assert.equal(callback!.body.StatusCode, "500");
      assert.equal((callback!.body.Error as { ErrorCode: string }).ErrorCode, "JobOutputInvalid");
    } finally {
      await receiver.close();
      await api.close();
    }
  });
});

describe("callback delivery: retries until delivered once, gives up visibly", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ ...FAST, CALLBACK_MAX_ATTEMPTS: "5" });
  });
  after(() => api.close());

  /** Resolves once the sender is done with a job's callback (delivered or given up): no attempt can follow. */
  const senderDone = (jobId: unknown) =>
    api.waitForLog((l) => l.jobId === jobId && (l.msg === "callback delivered" || String(l.msg).startsWith("callback given up")));

  it("retries 503s and delivers exactly once", async () => {
    const receiver = await startReceiver([503, 503, 503]);
    try {
      const accepted = await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb` });
      await senderDone(accepted.body?.jobId);
      assert.equal(receiver.attempts, 4);
      assert.equal(receiver.delivered.length, 1);
    } finally {
      await receiver.close();
    }
  });

  it("retries a receiver that hangs past CALLBACK_TIMEOUT_MS, then delivers", async () => {
    const receiver = await startReceiver(["hang"]);
    try {
      await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb` });
      await receiver.waitFor(1);
      assert.equal(receiver.attempts, 2);
    } finally {
      await receiver.close();
    }
  });

  it("retries a receiver that refuses connections, once it comes back", async () => {
    const receiver = await startReceiver(["destroy", "destroy"]);
    try {
      await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb` });
      await receiver.waitFor(1);
      assert.equal(receiver.delivered.length, 1);
    } finally {
      await receiver.close();
    }
  });

  it("does not retry a 4xx answer, and never follows a redirect", async () => {
    const before = await metric(api, 'callback_give_ups_total{reason="rejected"}', 0);
    // Where a redirect points: a client that followed it would be counted here (and would be acknowledged).
    const elsewhere = await startReceiver();
    try {
      for (const answer of [404, { status: 302, headers: { location: `${elsewhere.base}/moved` } }, { status: 307, headers: { location: `${elsewhere.base}/moved` } }]) {
        const receiver = await startReceiver([answer]);
        try {
          const accepted = await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb` });
          const done = await senderDone(accepted.body?.jobId);
          assert.equal(done.reason, "rejected", JSON.stringify(answer));
          assert.equal(receiver.attempts, 1, JSON.stringify(answer));
        } finally {
          await receiver.close();
        }
      }
      assert.equal(elsewhere.attempts, 0, "a redirect was followed");
    } finally {
      await elsewhere.close();
    }
    assert.equal((await metric(api, 'callback_give_ups_total{reason="rejected"}', 0)) - before, 3);
  });

  it("gives up on a receiver down for good: logged and counted", async () => {
    const receiver = await startReceiver();
    const url = `${receiver.base}/cb`;
    await receiver.close();
    const before = await metric(api, 'callback_give_ups_total{reason="exhausted"}', 0);
    const retriesBefore = await metric(api, 'callback_retries_total', 0);
    const accepted = await postJson(`${api.url}/helloworld`, { callBackUri: url });
    assert.equal(accepted.status, 202);
    const givenUp = await senderDone(accepted.body?.jobId);
    assert.match(String(givenUp.msg), /^callback given up/);
    assert.equal(givenUp.level, "error");
    assert.equal(await metric(api, 'callback_give_ups_total{reason="exhausted"}', 0), before + 1);
    // CALLBACK_MAX_ATTEMPTS is 5: four retries, counted by this job alone.
    assert.equal((await metric(api, 'callback_retries_total', 0)) - retriesBefore, 4);
  });
});

describe("web activity (no callBackUri): synchronous", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ JOB_TIMEOUT_MS: "1000" });
  });
  after(() => api.close());

  it("answers 200 with the job's output object", async () => {
    const res = await postJson(`${api.url}/simulate`, { output: { rows: 10 } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { rows: 10 });
  });

  it("answers the job's error status with a JSON error", async () => {
    const res = await postJson(`${api.url}/simulate`, { fail: true, statusCode: 422, errorCode: "BadRows", message: "bad rows" });
    assert.equal(res.status, 422);
    assert.deepEqual(res.body, { error: { code: "BadRows", message: "bad rows" } });
  });

  it("answers 504 when the job outlives JOB_TIMEOUT_MS", async () => {
    const res = await postJson(`${api.url}/simulate`, { durationMs: 10_000 });
    assert.equal(res.status, 504);
    assert.equal(res.body?.error?.code, "JobTimedOut");
  });
});

describe("web activity whose caller disconnects", () => {
  it("cancels the job: its signal aborts, its slot frees, jobs_total{outcome=\"cancelled\"} counts it", async () => {
    const gated = gatedJob();
    const api = await startApi({ MAX_CONCURRENT_JOBS: "1" }, { jobs: [...jobs, gated.job] });
    try {
      const req = request(`${api.url}/gated`, { method: "POST", headers: { "content-type": "application/json" } });
      req.on("error", () => {});
      req.end(JSON.stringify({ tag: "sync" }));
      await gated.until("start", 1);
      req.destroy(); // as ADF does when httpRequestTimeout runs out
      await gated.until("abort", 1);
      await api.waitForLog((line) => line.msg === "job cancelled");
      const requestLine = await api.waitForLog((line) => line.msg === "request" && line.route === "/gated");
      assert.equal(requestLine.status, 499, "logged as a client that closed the request");
      const text = await (await fetch(`${api.metricsUrl}/metrics`)).text();
      assert.match(text, /^jobs_total\{job="gated",outcome="cancelled"\} 1$/m);
      assert.match(text, /^jobs_running 0$/m);
      assert.equal((await postJson(`${api.url}/helloworld`, {})).status, 200, "the slot is free again");
      assert.deepEqual(gated.tags, ["sync"]);
    } finally {
      gated.open();
      await api.close();
    }
  });
});

describe("job limits", () => {
  it("beyond MAX_CONCURRENT_JOBS with no queue (MAX_QUEUED_JOBS=0): 503 with Retry-After, then accepts again", async () => {
    const gated = gatedJob();
    const api = await startApi({ ...FAST, MAX_CONCURRENT_JOBS: "1", MAX_QUEUED_JOBS: "0" }, { jobs: [...jobs, gated.job] });
    const receiver = await startReceiver();
    try {
      const first = await postJson(`${api.url}/gated`, { callBackUri: `${receiver.base}/cb` });
      assert.equal(first.status, 202);
      const second = await postJson(`${api.url}/simulate`, { callBackUri: `${receiver.base}/cb` });
      assert.equal(second.status, 503);
      assert.equal(second.headers.get("retry-after"), "5");
      assert.equal(second.body?.error?.code, "busy");
      const sync = await postJson(`${api.url}/simulate`, {});
      assert.equal(sync.status, 503);
      gated.open();
      // The slot is released when the job ends, before its callback is sent.
      await receiver.waitFor(1);
      assert.equal((await postJson(`${api.url}/simulate`, {})).status, 200);
    } finally {
      gated.open();
      await receiver.close();
      await api.close();
    }
  });
});

describe("drain with jobs in flight", function () {
  this.timeout(30_000);

  it("while draining, refuses webhook jobs (503 draining) and still answers Web activity calls", async () => {
    const api = await startApi(FAST);
    try {
      api.drain.begin();
      const webhook = await postJson(`${api.url}/simulate`, { callBackUri: "http://127.0.0.1:9/cb" });
      assert.equal(webhook.status, 503);
      assert.equal(webhook.body?.error?.code, "draining");
      assert.equal((await postJson(`${api.url}/simulate`, {})).status, 200);
    } finally {
      await api.close();
    }
  });

  it("stops a job that would outlive the drain and reports it as InstanceShuttingDown before exiting", async () => {
    const receiver = await startReceiver();
    const api = await startApiProcess({ CALLBACK_ALLOW_INSECURE: "true", DRAIN_TIMEOUT_MS: "2000" });
    try {
      const accepted = await postJson(`${api.url}/simulate`, { durationMs: 60_000, callBackUri: `${receiver.base}/cb/long` });
      assert.equal(accepted.status, 202);
      api.child.kill("SIGTERM");
      assert.deepEqual(await api.exited, { code: 0, signal: null });
      assert.equal(receiver.delivered.length, 1);
      assert.equal(receiver.delivered[0]!.body.StatusCode, "503");
      assert.equal((receiver.delivered[0]!.body.Error as { ErrorCode: string }).ErrorCode, "InstanceShuttingDown");
    } finally {
      api.child.kill("SIGKILL");
      await receiver.close();
    }
  });

  it("delivers every accepted job's callback before the process exits 0", async () => {
    const receiver = await startReceiver();
    const api = await startApiProcess({ CALLBACK_ALLOW_INSECURE: "true", DRAIN_TIMEOUT_MS: "10000" });
    try {
      const accepted = await Promise.all(
        [300, 600, 900].map((durationMs) => postJson(`${api.url}/simulate`, { durationMs, callBackUri: `${receiver.base}/cb/${durationMs}` })),
      );
      assert.deepEqual(accepted.map((a) => a.status), [202, 202, 202]);
      api.child.kill("SIGTERM");
      const exit = await api.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.deepEqual(receiver.delivered.map((d) => d.path).sort(), ["/cb/300", "/cb/600", "/cb/900"]);
    } finally {
      api.child.kill("SIGKILL");
      await receiver.close();
    }
  });
});

describe("the fields ADF adds to the body are no job's input", () => {
  // A Web activity that references datasets and linked services sends them in the body (Microsoft Learn,
  // "Web activity", request payload schema); linked services can carry connection strings.
  const adfFields = {
    datasets: [{ name: "MyDataset1", properties: { type: "AzureSqlTable", typeProperties: { tableName: "dept" } } }],
    linkedServices: [{ name: "Sql", properties: { type: "AzureSqlDatabase", typeProperties: { connectionString: "Password=ls-s3cret" } } }],
  };
  let api: RunningApi;
  before(async () => {
    api = await startApi(FAST);
  });
  after(() => api.close());

  it("a Web activity with datasets and linkedServices runs the job (simulate's input is strict)", async () => {
    const res = await postJson(`${api.url}/simulate`, { output: { rows: 1 }, ...adfFields });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { rows: 1 });
    for (const path of ["/helloworld", "/test"]) assert.equal((await postJson(`${api.url}${path}`, adfFields)).status, 200, path);
  });

  it("a Webhook activity with them too: 202, then the callback", async () => {
    const receiver = await startReceiver();
    try {
      const res = await postJson(`${api.url}/simulate`, { output: { rows: 2 }, ...adfFields, callBackUri: `${receiver.base}/cb` });
      assert.equal(res.status, 202);
      const [callback] = await receiver.waitFor(1);
      assert.deepEqual(callback!.body, { Output: { rows: 2 }, StatusCode: "200" });
      assert.doesNotMatch(JSON.stringify(api.logs), /ls-s3cret/);
    } finally {
      await receiver.close();
    }
  });

  it("a job's input that declares one of them is refused when the job is defined", () => {
    for (const field of ["callBackUri", "datasets", "linkedServices"]) {
      assert.throws(
        () => defineJob({ name: "greedy", description: "Wants ADF's fields.", input: z.object({ [field]: z.unknown() }), run: async () => ({}) }),
        new RegExp(`declares ${field}, which ADF adds and no job receives`),
      );
    }
  });
});
