import assert from "node:assert/strict";

import { field, interpretCallback } from "./callback.js";

describe("ADF emulator: interpreting callbacks", () => {
  it("without reportStatusOnCallBack any callback succeeds with its body", () => {
    const body = { StatusCode: "500", Error: { ErrorCode: "X", Message: "y" } };
    assert.deepEqual(interpretCallback(body, false), { status: "Succeeded", output: body });
  });

  it("with it, StatusCode (string or number) >= 400 fails with Error", () => {
    assert.deepEqual(interpretCallback({ Output: { a: 1 }, StatusCode: "200" }, true), { status: "Succeeded", output: { a: 1 } });
    assert.deepEqual(interpretCallback({ Output: { a: 1 } }, true), { status: "Succeeded", output: { a: 1 } });
    assert.deepEqual(interpretCallback({ StatusCode: 404, Error: { ErrorCode: "NotThere", Message: "gone" } }, true), {
      status: "Failed",
      output: undefined,
      error: { errorCode: "NotThere", message: "gone" },
    });
    const bare = interpretCallback({ StatusCode: "503" }, true);
    assert.equal(bare.status, "Failed");
    assert.equal(bare.error?.errorCode, "503");
    assert.equal(interpretCallback({ StatusCode: "oops" }, true).status, "Failed");
  });

  it("with it, reads field names in any case, as ADF's .NET deserialiser does", () => {
    assert.deepEqual(
      interpretCallback({ output: { a: 1 }, error: { errorcode: "Lower", MESSAGE: "shouted" }, statuscode: "500" }, true),
      { status: "Failed", output: { a: 1 }, error: { errorCode: "Lower", message: "shouted" } },
    );
    assert.deepEqual(interpretCallback({ statusCode: 200, oUtPuT: { b: 2 } }, true), { status: "Succeeded", output: { b: 2 } });
    assert.equal(field({ statuscode: "1", StatusCode: "2" }, "StatusCode"), "2", "an exact match wins");
    assert.equal(field({ statuscode: "1" }, "StatusCode"), "1");
    assert.equal(field({ "status code": "1" }, "StatusCode"), undefined);
  });

  it("with it, a callback without those fields completes: empty, text, an array, or other JSON", () => {
    // Issue 11 point 7 changes the earlier reading, where a body that was not a JSON object failed.
    for (const body of [undefined, "done", [1], 42, null, { somethingElse: true }]) {
      const read = interpretCallback(body, true);
      assert.equal(read.status, "Succeeded", JSON.stringify(body));
      assert.equal(read.error, undefined);
      assert.equal(read.output, undefined);
    }
  });
});
