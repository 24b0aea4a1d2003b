import assert from "node:assert/strict";
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";

import { Registry } from "prom-client";
import { z } from "zod";

import { HttpError } from "../framework/errors.js";
import { defineJob } from "../jobs/job.js";
import { installClock, type FakeClock } from "../testing/clock.js";
import { heldJob } from "../testing/jobs.js";
import { capturedLogger } from "../testing/logs.js";
import type { JobOutcome } from "./adf-outcome.js";
import { createJobMetrics, type JobMetrics } from "./metrics.js";
import { JobRunner } from "./runner.js";

describe("JobRunner: jobs within their slots, deadlines and the wrap-up (fake clock)", () => {
  const TIMEOUT = 1_000;
  let clock: FakeClock;
  let wrapUp: AbortController;
  let metrics: JobMetrics;
  const { logs, lines } = capturedLogger();
  const runner = (limits: { MAX_CONCURRENT_JOBS?: number; MAX_QUEUED_JOBS?: number } = {}) =>
    new JobRunner({ MAX_CONCURRENT_JOBS: 1, MAX_QUEUED_JOBS: 1, JOB_TIMEOUT_MS: TIMEOUT, MAX_OUTPUT_BYTES: 1_024, ...limits }, metrics, wrapUp.signal);
  const queue = (json: string) => ({ json, revive: (text: string) => JSON.parse(text) as unknown });
  const counted = async (outcome: string) => (await metrics.jobs.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
  const code = (outcome: JobOutcome) => (outcome.ok ? "ok" : outcome.errorCode);

  beforeEach(() => {
    clock = installClock();
    wrapUp = new AbortController();
    metrics = createJobMetrics(new Registry());
    lines.length = 0;
  });
  afterEach(() => clock.uninstall());

  it("runs a job in a free slot and resolves with its output as JSON", async () => {
    const { job, runs } = heldJob();
    const outcome = runner().start(job, { a: 1 }, { logs });
    assert.equal(metrics.load.running, 1);
    runs[0]!.finish();
    assert.deepEqual(await outcome, { ok: true, output: '{"input":{"a":1}}' });
    assert.equal(metrics.load.running, 0);
    assert.equal(await counted("succeeded"), 1);
  });

  it("refuses a Web activity call (no queue) with 503 busy when no slot is free; counts it rejected", async () => {
    const { job } = heldJob();
    const jobs = runner();
    void jobs.start(job, {}, { logs });
    assert.throws(() => jobs.start(job, {}, { logs }), (error: HttpError) => error.status === 503 && /jobs are running/.test(error.message));
    assert.equal(await counted("rejected"), 1);
  });

  it("queues a webhook call for the next free slot, its input kept as JSON and made again when it starts", async () => {
    const { job, runs } = heldJob();
    const jobs = runner();
    const first = jobs.start(job, "first", { logs });
    const second = jobs.start(job, "ignored", { logs, queue: queue('"second"') });
    assert.throws(() => jobs.start(job, {}, { logs, queue: queue("{}") }), /MAX_QUEUED_JOBS/);
    assert.equal(metrics.load.queued, 1);
    runs[0]!.finish();
    await clock.tickAsync(0);
    assert.deepEqual(
      runs.map((run) => run.input),
      ["first", "second"],
    );
    runs[1]!.finish();
    assert.deepEqual((await Promise.all([first, second])).map(code), ["ok", "ok"]);
    assert.deepEqual([metrics.load.running, metrics.load.queued], [0, 0]);
  });

  it("times a running job out JOB_TIMEOUT_MS after its acceptance, and a queued one that never got a slot", async () => {
    const { job, runs } = heldJob({ ignoreSignal: true });
    const jobs = runner();
    const running = jobs.start(job, {}, { logs });
    await clock.tickAsync(400);
    const queued = jobs.start(job, {}, { logs, queue: queue("{}") });
    await clock.tickAsync(TIMEOUT - 400 - 1);
    assert.equal(runs[0]!.context.signal.aborted, false);
    await clock.tickAsync(1);
    const ran = await running;
    assert.equal(code(ran), "JobTimedOut");
    assert.equal(metrics.load.running, 1, "a job that ignores its signal keeps its slot until it really ends");
    await clock.tickAsync(400);
    const waited = await queued;
    assert.ok(!waited.ok);
    assert.match(waited.message, /never started/);
    assert.equal(runs.length, 1);
    runs[0]!.finish();
    await clock.tickAsync(0);
    assert.deepEqual([metrics.load.running, metrics.load.queued], [0, 0]);
    assert.equal(await counted("timed_out"), 2);
    assert.deepEqual(
      lines.filter((line) => line.msg === "job timed out").map((line) => [line.started, line.durationMs]),
      [
        [true, TIMEOUT],
        [false, TIMEOUT],
      ],
    );
  });

  it("at the wrap-up, stops running and queued jobs as InstanceShuttingDown, and any started after it", async () => {
    const { job, runs } = heldJob();
    const jobs = runner();
    const running = jobs.start(job, {}, { logs });
    const queued = jobs.start(job, {}, { logs, queue: queue("{}") });
    wrapUp.abort();
    assert.deepEqual((await Promise.all([running, queued])).map(code), ["InstanceShuttingDown", "InstanceShuttingDown"]);
    assert.equal(runs.length, 1, "the queued job never ran");
    assert.equal(code(await jobs.start(job, {}, { logs })), "InstanceShuttingDown");
    assert.equal(await counted("interrupted"), 3);
  });

  it("cancels a Web activity's job when its caller disconnects", async () => {
    const { job, runs } = heldJob();
    const caller = new ServerResponse(new IncomingMessage(new Socket()));
    const outcome = runner().start(job, {}, { logs, caller });
    caller.emit("close");
    assert.equal(code(await outcome), "JobCancelled");
    assert.equal(runs[0]!.context.signal.aborted, true);
    assert.equal(caller.listenerCount("close"), 0, "the response is let go once the job is over");
    assert.equal(await counted("cancelled"), 1);
  });

  it("a job that throws or returns no object fails; its slot passes on", async () => {
    const throws = defineJob({ name: "throws", description: "Throws.", input: z.unknown(), run: () => Promise.reject(new Error("boom")) });
    const array = defineJob({ name: "array", description: "No object.", input: z.unknown(), run: async () => [] as never });
    const jobs = runner();
    assert.deepEqual([code(await jobs.start(throws, {}, { logs })), code(await jobs.start(array, {}, { logs }))], ["JobFailed", "JobOutputInvalid"]);
    assert.equal(metrics.load.running, 0);
  });
});
