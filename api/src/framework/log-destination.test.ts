import assert from "node:assert/strict";

import fc from "fast-check";

import { runLogThenExit, startApiProcess } from "../testing/process.js";
import { isoTimeCachedPerSecond } from "./log-destination.js";

function assertEveryLineInOrder(lines: string[], count: number): void {
  const entries = lines.map((line) => JSON.parse(line) as { i?: number; msg: string });
  assert.equal(entries.length, count + 1, "every line arrived");
  entries.slice(0, count).forEach((entry, index) => assert.equal(entry.i, index, "in the order logged"));
  assert.equal(entries.at(-1)?.msg, "last line");
}

describe("log lines reach stdout, all of them, in order", function () {
  this.timeout(60_000);

  it("when the process calls process.exit() right after logging, with a slow reader", async () => {
    const { code, lines } = await runLogThenExit(["20000", "exit"], 500);
    assert.equal(code, 3);
    assertEveryLineInOrder(lines, 20_000);
  });

  it("when the process dies of an uncaught exception right after logging", async () => {
    const { code, lines } = await runLogThenExit(["5000", "throw"], 200);
    assert.equal(code, 1);
    assertEveryLineInOrder(lines, 5_000);
  });

  it("on SIGTERM, the real process writes every request's line, then its shutdown lines, last", async () => {
    const api = await startApiProcess({ DRAIN_TIMEOUT_MS: "10000" });
    const answers = Array.from({ length: 300 }, (_, i) => fetch(`${api.url}/helloworld`, { headers: { "x-request-id": `req-${i}` } }).then((res) => res.status, () => 0));
    // Signalled while most requests are still on their way or being answered.
    await new Promise((resolve) => setTimeout(resolve, 20));
    api.child.kill("SIGTERM");
    const statuses = await Promise.all(answers);
    assert.deepEqual(await api.exited, { code: 0, signal: null });
    const entries = api.lines.map((line) => JSON.parse(line) as { msg: string; reqId?: string; status?: number });
    const answered = statuses.flatMap((status, i) => (status === 200 ? [`req-${i}`] : []));
    assert.ok(answered.length > 0);
    const logged = new Set(entries.filter((entry) => entry.msg === "request" && entry.status === 200).map((entry) => entry.reqId));
    for (const id of answered) assert.ok(logged.has(id), `the line of ${id}, answered 200, was written`);
    const shutdownLines = entries.map((entry) => entry.msg).filter((msg) => ["shutting down", "draining", "drained"].includes(msg));
    assert.deepEqual(shutdownLines, ["shutting down", "draining", "drained"]);
    assert.equal(entries.at(-1)?.msg, "drained");
  });
});

describe("the log timestamp, formatted once a second", () => {
  it("is pino's isoTime to the millisecond, whatever the sequence of clock readings", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 253_402_300_799_996 }), { minLength: 1, maxLength: 50 }), fc.integer({ min: 0, max: 3 }), (times, repeat) => {
        let now = 0;
        const time = isoTimeCachedPerSecond(() => now);
        for (const t of times.flatMap((t) => Array.from({ length: repeat + 1 }, (_, k) => t + k))) {
          now = t;
          assert.equal(time(), `,"time":"${new Date(t).toISOString()}"`);
        }
      }),
    );
  });
});
