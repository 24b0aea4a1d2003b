import assert from "node:assert/strict";

import { formatMs, formatTimespan, parseTimespan } from "./timespan.js";

describe("ADF emulator: timespans", () => {
  it("parses ADF's hh:mm:ss and d.hh:mm:ss, with fractional seconds", () => {
    assert.equal(parseTimespan("00:10:00"), 600_000);
    assert.equal(parseTimespan("01:02:03"), 3_723_000);
    assert.equal(parseTimespan("1.00:00:00"), 86_400_000);
    assert.equal(parseTimespan("7.12:00:00"), 7.5 * 86_400_000);
    assert.equal(parseTimespan("00:00:01"), 1000);
    assert.equal(parseTimespan("00:00:00.25"), 250);
    assert.equal(parseTimespan("0:00:01.5"), 1500);
  });

  it("refuses what is not a timespan", () => {
    for (const bad of ["", "10", "10m", "00:10", "00:60:00", "24:00:00", "00:00:60", "-00:00:01", "00:00:00", "a.00:00:01", "00:00:01."]) {
      assert.throws(() => parseTimespan(bad), RangeError, bad);
    }
  });

  it("formats ms back into a timespan", () => {
    assert.equal(formatTimespan(600_000), "00:10:00");
    assert.equal(formatTimespan(86_400_000 + 3_723_000), "1.01:02:03");
    assert.equal(formatTimespan(1500), "00:00:01.5");
  });

  it("formats durations for people", () => {
    assert.equal(formatMs(12.4), "12 ms");
    assert.equal(formatMs(1530), "1.53 s");
    assert.equal(formatMs(60_000), "1 min");
    assert.equal(formatMs(90_500), "1 min 30.5 s");
  });
});
