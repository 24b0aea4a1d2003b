import assert from "node:assert/strict";

import { HttpError } from "../framework/errors.js";
import { QueuedInput, Slots } from "./admission.js";
import type { JobLoad } from "./metrics.js";

describe("Slots: MAX_CONCURRENT_JOBS running, MAX_QUEUED_JOBS waiting", () => {
  const newSlots = (MAX_CONCURRENT_JOBS: number, MAX_QUEUED_JOBS: number) => {
    const load: JobLoad = { running: 0, queued: 0, queuedBytes: 0, callbacksPending: 0 };
    return { slots: new Slots({ MAX_CONCURRENT_JOBS, MAX_QUEUED_JOBS }, load), load };
  };

  it("gives out slots up to the limit, and counts them for the gauges", () => {
    const { slots, load } = newSlots(2, 0);
    assert.equal(slots.take(), true);
    assert.equal(slots.take(), true);
    assert.equal(slots.take(), false);
    assert.equal(load.running, 2);
    slots.release();
    assert.equal(load.running, 1);
    assert.equal(slots.take(), true);
  });

  it("passes a freed slot to the oldest waiting job, which keeps it counted as running", () => {
    const { slots, load } = newSlots(1, 2);
    const granted: string[] = [];
    slots.take();
    const first = () => granted.push("first");
    slots.enqueue(first);
    slots.enqueue(() => granted.push("second"));
    assert.equal(load.queued, 2);
    assert.equal(slots.roomInQueue, false);
    slots.release();
    assert.deepEqual(granted, ["first"]);
    assert.deepEqual([load.running, load.queued], [1, 1]);
    assert.equal(slots.take(), false, "the slot passed on; none is free");
    slots.release();
    slots.release();
    assert.deepEqual(granted, ["first", "second"]);
    assert.deepEqual([load.running, load.queued], [0, 0]);
  });

  it("a job that leaves the queue is never granted a slot", () => {
    const { slots, load } = newSlots(1, 1);
    let granted = false;
    const waiting = () => (granted = true);
    slots.take();
    slots.enqueue(waiting);
    slots.leave(waiting);
    assert.equal(load.queued, 0);
    assert.equal(slots.roomInQueue, true);
    slots.release();
    assert.equal(granted, false);
    assert.equal(load.running, 0);
  });

  it("refuses with 503 busy and Retry-After, naming the limit that was met", () => {
    const { slots } = newSlots(1, 1);
    slots.take();
    slots.enqueue(() => {});
    for (const [mayQueue, text] of [
      [true, /1 jobs are running and 1 are queued.*MAX_QUEUED_JOBS/],
      [false, /1 jobs are running, the most this instance takes/],
    ] as const) {
      const refusal = slots.refusal(mayQueue);
      assert.ok(refusal instanceof HttpError);
      assert.equal(refusal.status, 503);
      assert.equal(refusal.code, "busy");
      assert.match(refusal.message, text);
      assert.match(refusal.headers["Retry-After"] ?? "", /^[1-9]\d*$/);
    }
  });
});

describe("QueuedInput: a waiting job's input held as bytes", () => {
  it("makes the input again from its JSON once, when the job starts", () => {
    const revived: string[] = [];
    const input = new QueuedInput('{"tag":"é"}', (json) => (revived.push(json), JSON.parse(json) as unknown));
    assert.deepEqual(input.take(), { tag: "é" });
    assert.deepEqual(revived, ['{"tag":"é"}']);
    assert.throws(() => input.take(), "its bytes are gone once taken");
  });

  it("lets go of its bytes when the job ends without starting", () => {
    const input = new QueuedInput("{}", () => assert.fail("never revived"));
    input.drop();
    assert.throws(() => input.take());
  });
});
