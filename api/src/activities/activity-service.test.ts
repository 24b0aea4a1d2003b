import assert from "node:assert/strict";

import { Registry } from "prom-client";

import { loadConfig } from "../config.js";
import { Drain } from "../framework/drain.js";
import { HttpError } from "../framework/errors.js";
import { helloworld } from "../jobs/helloworld.js";
import { capturedLogger } from "../testing/logs.js";
import { startReceiver } from "../testing/receiver.js";
import { ActivityService } from "./activity-service.js";
import { createJobMetrics } from "./metrics.js";

describe("ActivityService: what the two activities share, built once", () => {
  const build = (env: Record<string, string> = {}) => {
    const drain = new Drain();
    const { logger, lines, logs } = capturedLogger();
    const metrics = createJobMetrics(new Registry());
    const activities = new ActivityService({ config: loadConfig({ CALLBACK_ALLOW_INSECURE: "true", ...env }), drain, metrics, logger });
    return { activities, drain, lines, logs, metrics };
  };
  const stop = async (drain: Drain) => {
    drain.begin();
    drain.wrapUpNow();
    await drain.settled(Date.now() + 10_000);
  };

  it("warns once, when built, about settings meant for testing only", async () => {
    const { lines, drain } = build();
    assert.deepEqual(
      lines.map((line) => line.level),
      ["warn"],
    );
    assert.match(String(lines[0]?.msg), /CALLBACK_ALLOW_INSECURE=true/);
    await stop(drain);
  });

  it("accepts a webhook job: its id at once, then the callback ADF expects, delivered inside the drain", async () => {
    const { activities, drain, logs } = build();
    const receiver = await startReceiver();
    try {
      const jobId = await activities.accept(helloworld, {}, `{"callBackUri":"${receiver.base}/cb"}`, `${receiver.base}/cb`, logs);
      assert.match(jobId, /^[0-9a-f-]{36}$/);
      const [callback] = await receiver.waitFor(1);
      assert.deepEqual(callback!.body, { Output: { message: "Hello World" }, StatusCode: "200" });
    } finally {
      await receiver.close();
      await stop(drain);
    }
  });

  it("refuses webhook jobs while draining (503 draining), and counts a body the backlog has no room for as rejected", async () => {
    const { activities, drain, logs, metrics } = build({ MAX_QUEUED_BYTES: "1kb", BODY_LIMIT: "1kb", MAX_OUTPUT_BYTES: "1kb" });
    assert.throws(() => activities.admitBody(helloworld, 2_000), (error: HttpError) => error.status === 503 && error.code === "busy");
    assert.equal((await metrics.jobs.get()).values.find((v) => v.labels.outcome === "rejected")?.value, 1);
    drain.begin();
    await assert.rejects(activities.accept(helloworld, {}, "{}", "http://127.0.0.1:9/cb", logs), (error: HttpError) => error.code === "draining");
    await stop(drain);
  });
});
