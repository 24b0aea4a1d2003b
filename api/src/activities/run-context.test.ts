import assert from "node:assert/strict";

import { capturedLogger } from "../testing/logs.js";
import { shuttingDown, timedOut, type JobStopped } from "./adf-outcome.js";
import { RunContext } from "./run-context.js";

describe("RunContext: what a running job sees", () => {
  it("is stopped once, with the first reason: the wait first, then the job's signal", () => {
    const context = new RunContext(capturedLogger().logs, 0);
    const order: string[] = [];
    const signal = context.signal;
    signal.addEventListener("abort", () => order.push("signal"));
    context.onStop = (reason: JobStopped) => order.push(`wait ${reason.errorCode}`);
    context.stop(timedOut(10, true));
    context.stop(shuttingDown());
    assert.deepEqual(order, ["wait JobTimedOut", "signal"]);
    assert.equal((signal.reason as JobStopped).errorCode, "JobTimedOut");
  });

  it("hands a job that asks for its signal after the stop an aborted one", () => {
    const context = new RunContext(capturedLogger().logs, 0);
    context.stop(shuttingDown());
    assert.equal(context.signal.aborted, true);
    assert.equal((context.signal.reason as JobStopped).errorCode, "InstanceShuttingDown");
  });

  it("reads its logger only when the job logs", () => {
    let reads = 0;
    const { logger, lines } = capturedLogger();
    const context = new RunContext(
      {
        get log() {
          reads++;
          return logger;
        },
      },
      0,
    );
    assert.equal(reads, 0);
    context.log.info("from the job");
    assert.equal(reads, 1);
    assert.equal(lines[0]?.msg, "from the job");
  });
});
