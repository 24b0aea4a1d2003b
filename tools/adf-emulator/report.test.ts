import assert from "node:assert/strict";

import { exitCodeFor, formatReport } from "./report.js";

describe("ADF emulator: report", () => {
  it("shows status, error, output and timings as ADF would", () => {
    const report = formatReport({
      activity: "Web",
      status: "Failed",
      error: { errorCode: "EndpointError", message: "The endpoint answered 500" },
      endpoint: { status: 202, statusText: "Accepted", ms: 12 },
      polls: 1,
      finalAnswer: { status: 500, statusText: "Internal Server Error", ms: 1530 },
      totalMs: 1540,
    });
    assert.equal(
      report,
      [
        "Web activity: Failed",
        "  Error code: EndpointError",
        "  Message:    The endpoint answered 500",
        "Output:",
        "  (none)",
        "Timings:",
        "  endpoint answered 202 Accepted after 12 ms",
        "  1 poll; final answer 500 Internal Server Error after 1.53 s",
        "  total 1.54 s",
      ].join("\n"),
    );
  });

  it("exits 0, 1, 2 or 130", () => {
    assert.deepEqual(
      (["Succeeded", "Failed", "TimedOut", "Cancelled"] as const).map(exitCodeFor),
      [0, 1, 2, 130],
    );
  });
});
