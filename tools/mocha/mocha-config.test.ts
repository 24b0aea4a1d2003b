import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as path from "node:path";

/**
 * The suite cannot turn green by losing tests or hang on a leak: mocha, run as `npm test` runs it
 * (this repository's .mocharc.json), fails on `.only`, on pending tests and on handles left open.
 */

const ROOT = path.resolve(import.meta.dirname, "..", "..");
const MOCHA = path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js");

function runMocha(fixture: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MOCHA, path.join(import.meta.dirname, "fixtures", fixture)], {
      cwd: ROOT,
      env: { ...process.env, LEAK_GRACE_MS: "500" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => resolve({ code, output }));
  });
}

describe("the test runner's configuration (.mocharc.json)", function () {
  // Each case starts mocha (and tsx) afresh.
  this.timeout(60_000);

  const runs: Record<string, Promise<{ code: number | null; output: string }>> = {};
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
