import * as assert from "node:assert/strict";

import { runMocha, type MochaRun } from "./testing/run-mocha.js";

/**
 * The suite cannot turn green by losing tests or hang on a leak: mocha, run as `npm test` runs it
 * (this repository's .mocharc.json), fails on `.only`, on pending tests and on handles left open.
 */

describe("the test runner's configuration (.mocharc.json)", function () {
  // Each case starts mocha (and tsx) afresh.
  this.timeout(60_000);

  const runs: Record<string, Promise<MochaRun>> = {};
  before(() => {
    for (const fixture of ["clean.ts", "leaks-a-server.ts", "exclusive.ts", "pending.ts"]) runs[fixture] = runMocha(fixture);
  });

  it("passes a run that closes what it opens, and exits on its own", async () => {
    const { code, output } = await runs["clean.ts"]!;
    assert.equal(code, 0, output);
    assert.match(output, /1 passing/);
    assert.doesNotMatch(output, /Leaked handles/);
  });

  it("fails a run whose tests pass but leave a server open, naming what is left", async () => {
    const { code, output } = await runs["leaks-a-server.ts"]!;
    assert.match(output, /1 passing/);
    assert.notEqual(code, 0, output);
    assert.match(output, /Leaked handles: the tests finished 500 ms ago/);
    assert.match(output, /TCPServerWrap/);
    assert.match(output, /listening on \{"address":"127\.0\.0\.1"/);
  });

  it("forbids .only, which would silently drop every other test", async () => {
    const { code, output } = await runs["exclusive.ts"]!;
    assert.notEqual(code, 0, output);
    assert.match(output, /ERR_MOCHA_FORBIDDEN_EXCLUSIVITY|forbid/i);
  });

  it("forbids pending tests (skip, or it() without a body)", async () => {
    const { code, output } = await runs["pending.ts"]!;
    assert.notEqual(code, 0, output);
    assert.match(output, /Pending test forbidden/);
  });
});
