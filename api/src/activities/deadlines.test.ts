import assert from "node:assert/strict";

import { installClock, type FakeClock } from "../testing/clock.js";
import { DeadlineEntry as Entry } from "../testing/deadlines.js";
import { Deadlines } from "./deadlines.js";

describe("Deadlines: one timer for every job's deadline", () => {
  let clock: FakeClock;
  let expired: string[];
  let deadlines: Deadlines<Entry>;
  const TIMEOUT = 1_000;
  const accept = (name: string) => {
    const entry = new Entry(name, performance.now() + TIMEOUT);
    deadlines.add(entry);
    return entry;
  };

  beforeEach(() => {
    clock = installClock();
    expired = [];
    deadlines = new Deadlines<Entry>(TIMEOUT, (entry) => {
      entry.stopped = true;
      expired.push(entry.name);
    });
  });
  afterEach(() => clock.uninstall());

  it("tells of each entry at its own deadline, counted from its own acceptance", () => {
    accept("early");
    clock.tick(400);
    accept("late");
    assert.equal(clock.countTimers(), 1, "one timer for both");
    clock.tick(599);
    assert.deepEqual(expired, []);
    clock.tick(1);
    assert.deepEqual(expired, ["early"]);
    clock.tick(399);
    assert.deepEqual(expired, ["early"]);
    clock.tick(1);
    assert.deepEqual(expired, ["early", "late"]);
  });

  it("sets no timer once nothing is left, and sets one again for the next entry", () => {
    deadlines.delete(accept("done"));
    clock.tick(TIMEOUT);
    assert.equal(clock.countTimers(), 0);
    accept("next");
    assert.equal(clock.countTimers(), 1);
    clock.tick(TIMEOUT);
    assert.deepEqual(expired, ["next"]);
  });

  it("passes over entries already stopped or deleted", () => {
    const stopped = accept("stopped");
    const deleted = accept("deleted");
    accept("due");
    stopped.stopped = true;
    deadlines.delete(deleted);
    clock.tick(TIMEOUT);
    assert.deepEqual(expired, ["due"]);
  });

  it("keeps its entries oldest first, as a list that deleting during a walk does not break", () => {
    const [a, b, c] = [accept("a"), accept("b"), accept("c")];
    deadlines.delete(b);
    deadlines.delete(b); // twice: not in the list any more, no effect
    assert.deepEqual([...deadlines].map((e) => e.name), ["a", "c"]);
    const walked: string[] = [];
    for (const entry of deadlines) {
      walked.push(entry.name);
      deadlines.delete(entry);
    }
    assert.deepEqual(walked, ["a", "c"]);
    assert.deepEqual([...deadlines], []);
    assert.equal(a.newer, undefined);
    assert.equal(c.older, undefined);
  });

  it("never keeps the process alive by itself (its timer is unreferenced)", () => {
    clock.uninstall(); // a real timer: Node counts only the referenced ones as keeping it alive
    const timers = () => process.getActiveResourcesInfo().filter((kind) => kind === "Timeout").length;
    const before = timers();
    const real = new Deadlines<Entry>(60_000, () => {});
    real.add(new Entry("job", performance.now() + 60_000));
    assert.equal(timers(), before);
    clock = installClock(); // for afterEach
  });
});
