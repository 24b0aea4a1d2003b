import assert from "node:assert/strict";

import { interpretCallback } from "./callback";

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
    assert.equal(interpretCallback([1], true).status, "Failed");
  });
});
