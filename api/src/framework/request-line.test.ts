import assert from "node:assert/strict";

import fc from "fast-check";
import { pino } from "pino";

import { createLogger } from "./logging.js";
import { requestLineWriter } from "./request-line.js";

describe("the request line", () => {
  /** Two loggers alike but for their destination, on a clock that stands still within a line pair. */
  function pair(level: string, options: pino.LoggerOptions = {}) {
    const ours: string[] = [];
    const pinos: string[] = [];
    let now = Date.UTC(2026, 10, 25, 17, 0, 0, 7);
    const timestamp = () => `,"time":${now}`;
    const make = (lines: string[]) =>
      options === PRODUCTION ? createLogger(level, { write: (line: string) => void lines.push(line) }) : pino({ level, timestamp, ...options }, { write: (line: string) => void lines.push(line) });
    return { ours, pinos, fast: requestLineWriter(make(ours)), generic: make(pinos), tick: () => (now += 1) };
  }
  const PRODUCTION: pino.LoggerOptions = {};

  const fields = fc.record({
    level: fc.constantFrom("info" as const, "debug" as const),
    reqId: fc.oneof(fc.uuid(), fc.stringMatching(/^[A-Za-z0-9._:-]{1,128}$/), fc.string({ unit: "binary" })),
    method: fc.oneof(fc.constantFrom("GET", "POST", "M-SEARCH"), fc.string()),
    route: fc.oneof(fc.constantFrom("/helloworld", "unmatched", "/jobs/:id"), fc.string({ unit: "binary" })),
    status: fc.oneof(fc.integer({ min: 100, max: 599 }), fc.constant(Number.NaN)),
    durationMs: fc.oneof(fc.double({ noNaN: false }), fc.integer().map((n) => n / 100)),
  });

  // Any text but lone surrogates, which JSON.stringify escapes and pino writes raw; none of these fields
  // can hold one (a request id is checked or a UUID, a method comes from Node's parser, a route is ours).
  it("is byte for byte the line pino writes for the same fields, at every level the logger may be at", () => {
    for (const level of ["trace", "debug", "info", "warn", "silent"]) {
      const { ours, pinos, fast, generic } = pair(level, PRODUCTION);
      fc.assert(
        fc.property(fields, ({ level: at, reqId, method, route, status, durationMs }) => {
          ours.length = 0;
          pinos.length = 0;
          // Same second, so the cached time text agrees to the millisecond (a separate test covers the clock).
          fast(at, reqId, method, route, status, durationMs);
          generic[at]({ reqId, method, route, status, durationMs }, "request");
          assert.deepEqual(ours.map(withoutTime), pinos.map(withoutTime));
          if (ours[0] !== undefined) assert.deepEqual(JSON.parse(withoutTime(ours[0])), JSON.parse(withoutTime(pinos[0]!)));
        }),
        { numRuns: 300 },
      );
    }
  });

  it("carries the logger's bindings and time, and follows a level changed at run time", () => {
    const { ours, pinos, fast, generic, tick } = pair("info", { base: { pid: 1, hostname: "h" } });
    const child = (lines: string[]) => pino({ timestamp: () => `,"time":1` }, { write: (line: string) => void lines.push(line) }).child({ app: "x" });
    fast("info", "r1", "GET", "/helloworld", 200, 1.5);
    generic.info({ reqId: "r1", method: "GET", route: "/helloworld", status: 200, durationMs: 1.5 }, "request");
    tick();
    fast("debug", "r2", "GET", "/healthz", 200, 0.1);
    generic.debug({ reqId: "r2", method: "GET", route: "/healthz", status: 200, durationMs: 0.1 }, "request");
    assert.equal(ours.length, 1);
    assert.deepEqual(ours, pinos);

    const lines: string[] = [];
    const logger = child(lines);
    const write = requestLineWriter(logger);
    write("debug", "r3", "GET", "/", 200, 1);
    logger.level = "debug";
    write("debug", "r4", "GET", "/", 200, 1);
    const expected: string[] = [];
    const reference = child(expected);
    reference.level = "debug";
    reference.debug({ reqId: "r4", method: "GET", route: "/", status: 200, durationMs: 1 }, "request");
    assert.deepEqual(lines, expected);
  });

  it("falls back to pino's own call for a logger whose features it does not reproduce", () => {
    const options: pino.LoggerOptions[] = [
      { mixin: () => ({ extra: 1 }) },
      { msgPrefix: "[api] " },
      { messageKey: "message" },
      { hooks: { streamWrite: (line) => line.replace("request", "REQUEST") } },
      { serializers: { route: () => "hidden" } },
      { redact: ["reqId"] },
      { formatters: { log: (fields) => ({ ...fields, added: true }) } },
    ];
    for (const option of options) {
      const { ours, pinos, fast, generic } = pair("info", option);
      fast("info", "r", "GET", "/helloworld", 200, 1);
      generic.info({ reqId: "r", method: "GET", route: "/helloworld", status: 200, durationMs: 1 }, "request");
      assert.deepEqual(ours, pinos, JSON.stringify(Object.keys(option)));
    }
  });
});

/** The line with its time taken out (the production logger's time comes from the wall clock). */
function withoutTime(line: string): string {
  return line.replace(/,"time":"[^"]*"/, "");
}
