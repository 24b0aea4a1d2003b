import assert from "node:assert/strict";
import { IncomingMessage, ServerResponse } from "node:http";
import { Socket } from "node:net";

import { capturedLogger } from "../testing/logs.js";
import type { JobStopped } from "./adf-outcome.js";
import { cancelWhenClosed, forgetCaller } from "./caller-watch.js";
import { RunContext } from "./run-context.js";

describe("caller watch: a Web activity's job is cancelled when its caller disconnects", () => {
  const response = () => new ServerResponse(new IncomingMessage(new Socket()));
  const context = () => {
    const stops: JobStopped[] = [];
    const run = new RunContext(capturedLogger().logs, 0);
    run.onStop = (reason) => stops.push(reason);
    return { run, stops };
  };

  it("stops the job as JobCancelled when the response closes before its answer is written", () => {
    const res = response();
    const { run, stops } = context();
    cancelWhenClosed(res, run);
    res.emit("close");
    assert.deepEqual(
      stops.map((stop) => stop.errorCode),
      ["JobCancelled"],
    );
  });

  it("does not stop it when the answer was written, nor once the job is forgotten", () => {
    const answered = response();
    const first = context();
    cancelWhenClosed(answered, first.run);
    answered.end();
    answered.emit("close");
    assert.deepEqual(first.stops, []);

    const forgotten = response();
    const second = context();
    cancelWhenClosed(forgotten, second.run);
    forgetCaller(forgotten);
    assert.equal(forgotten.listenerCount("close"), 0);
    forgotten.emit("close");
    assert.deepEqual(second.stops, []);
  });

  it("shares one listener among all watched responses (no closure per request)", () => {
    const [a, b] = [response(), response()];
    cancelWhenClosed(a, context().run);
    cancelWhenClosed(b, context().run);
    assert.equal(a.listeners("close")[0], b.listeners("close")[0]);
  });
});
