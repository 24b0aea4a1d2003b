import assert from "node:assert/strict";

import fc from "fast-check";

import { JobFailure } from "../jobs/job.js";
import { capturedLogger } from "../testing/logs.js";
import { callbackPayload, callerGone, failedWith, outcomeLabel, shuttingDown, succeeded, timedOut, type JobOutcome } from "./adf-outcome.js";

describe("ADF's outcome of a job", () => {
  const MAX = 1_024;

  describe("a job's output", () => {
    it("is its JSON text when it is a JSON object within MAX_OUTPUT_BYTES (bytes, not characters)", () => {
      const { logs } = capturedLogger();
      assert.deepEqual(succeeded({ message: "Hello World" }, MAX, logs), { ok: true, output: '{"message":"Hello World"}' });
      const exact = { data: `${"é".repeat(506)}x` };
      assert.equal(Buffer.byteLength(JSON.stringify(exact)), MAX);
      assert.equal(succeeded(exact, MAX, logs).ok, true);
      const over = succeeded({ data: `${exact.data}x` }, MAX, logs);
      assert.ok(!over.ok);
      assert.deepEqual([over.statusCode, over.errorCode, over.output], [500, "JobOutputTooLarge", "{}"]);
      assert.match(over.message, /1025 bytes of JSON, more than MAX_OUTPUT_BYTES \(1024\)/);
    });

    it("fails as JobOutputInvalid when it is no JSON object or cannot be serialised (logged)", () => {
      const { logs, lines } = capturedLogger();
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      for (const output of [null, [1], "text", 3, undefined, circular]) {
        const outcome = succeeded(output, MAX, logs);
        assert.ok(!outcome.ok);
        assert.deepEqual([outcome.statusCode, outcome.errorCode, outcome.output], [500, "JobOutputInvalid", "{}"]);
      }
      assert.equal(lines.filter((line) => line.msg === "job output is not serialisable as JSON").length, 1);
    });

    it("fails as JobOutputInvalid, naming the key, when it holds a number JSON cannot carry (never sent as null)", () => {
      const { logs, lines } = capturedLogger();
      for (const [output, key] of [
        [{ big: Infinity }, "big"],
        [{ rows: [{ ratio: NaN }] }, "ratio"],
        [{ list: [1, -Infinity] }, "1"],
      ] as const) {
        const outcome = succeeded(output, MAX, logs);
        assert.ok(!outcome.ok);
        assert.deepEqual([outcome.statusCode, outcome.errorCode, outcome.output], [500, "JobOutputInvalid", "{}"]);
        assert.match(outcome.message, new RegExp(`at key "${key}"`));
      }
      assert.equal(lines.filter((line) => line.msg === "job output has a number JSON cannot carry").length, 3);
      // A null the job gave is data, not a lost number.
      assert.deepEqual(succeeded({ empty: null, n: 1e308 }, MAX, logs), { ok: true, output: '{"empty":null,"n":1e+308}' });
    });
  });

  describe("a job's failure", () => {
    it("keeps a JobFailure's status, code, message and output; an output over the limit is dropped", () => {
      const { logs } = capturedLogger();
      assert.deepEqual(failedWith(new JobFailure(422, "BadRows", "3 rows failed", { rows: 3 }), MAX, logs), {
        ok: false,
        statusCode: 422,
        errorCode: "BadRows",
        message: "3 rows failed",
        output: '{"rows":3}',
      });
      const large = failedWith(new JobFailure(400, "Big", "big", { data: "x".repeat(MAX) }), MAX, logs);
      assert.deepEqual([large.ok, large.ok || large.errorCode, large.output], [false, "Big", "{}"]);
    });

    it("reads as ADF's codes when stopped: JobTimedOut 504, InstanceShuttingDown 503, JobCancelled 499", () => {
      const { logs } = capturedLogger();
      const codes = [timedOut(300, true), timedOut(300, false), shuttingDown(), callerGone()].map((stop) => {
        const outcome = failedWith(stop, MAX, logs);
        assert.ok(!outcome.ok);
        return [outcome.statusCode, outcome.errorCode, outcomeLabel(outcome)];
      });
      assert.deepEqual(codes, [
        [504, "JobTimedOut", "timed_out"],
        [504, "JobTimedOut", "timed_out"],
        [503, "InstanceShuttingDown", "interrupted"],
        [499, "JobCancelled", "cancelled"],
      ]);
      assert.match(timedOut(300, false).message, /never started/);
    });

    it("is JobFailed 500 for anything else thrown, with the details in the log only", () => {
      const { logs, lines } = capturedLogger();
      const outcome = failedWith(new Error("secret detail"), MAX, logs);
      assert.ok(!outcome.ok);
      assert.deepEqual([outcome.statusCode, outcome.errorCode, outcomeLabel(outcome)], [500, "JobFailed", "failed"]);
      assert.doesNotMatch(outcome.message, /secret/);
      assert.equal((lines.find((line) => line.msg === "job threw")?.err as { message?: string }).message, "secret detail");
    });
  });

  describe("the callback payload", () => {
    it("is {Output, StatusCode} on success and adds Error {ErrorCode, Message} on failure, for any output and message", () => {
      const outcomes = fc.oneof(
        fc.object().map((output): JobOutcome => ({ ok: true, output: JSON.stringify(output) })),
        fc
          .record({ statusCode: fc.integer({ min: 400, max: 599 }), errorCode: fc.string(), message: fc.string(), output: fc.object() })
          .map(({ output, ...failure }): JobOutcome => ({ ok: false, ...failure, output: JSON.stringify(output) })),
      );
      fc.assert(
        fc.property(outcomes, (outcome) => {
          const payload = JSON.parse(callbackPayload(outcome).toString("utf8")) as Record<string, unknown>;
          const expected = outcome.ok
            ? { Output: JSON.parse(outcome.output) as unknown, StatusCode: "200" }
            : { Output: JSON.parse(outcome.output) as unknown, Error: { ErrorCode: outcome.errorCode, Message: outcome.message }, StatusCode: String(outcome.statusCode) };
          assert.deepEqual(payload, expected);
        }),
      );
    });
  });
});
