import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { programDirectory, runTypeScript } from "./testing/engine.js";

const ROOT = path.resolve(import.meta.dirname, "..");

/**
 * A checkout of this repository at `destination`: every file git tracks or would track (the work in
 * progress included, ignored files such as node_modules excluded), with the dependencies linked in.
 */
function checkout(destination: string): string {
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    const from = path.join(ROOT, file);
    if (!fs.existsSync(from)) continue; // deleted in the work tree
    fs.mkdirSync(path.dirname(path.join(destination, file)), { recursive: true });
    fs.copyFileSync(from, path.join(destination, file));
  }
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(destination, "node_modules"), "dir");
  return destination;
}

/** Every string anywhere in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(strings);
  return [];
}

describe("two checkouts (a second machine)", function () {
  this.timeout(120_000);
  let temp: string;
  before(() => {
    temp = fs.mkdtempSync(path.join(os.tmpdir(), "adf-webhook-checkouts-"));
  });
  after(() => {
    fs.rmSync(temp, { recursive: true, force: true });
  });

  it("the program gives every resource the same inputs from checkouts at different paths and depths", async () => {
    const workstation = checkout(path.join(temp, "w"));
    const agent = checkout(path.join(temp, "agent", "_work", "7", "s", "adf-webhook"));
    // Run as the engine runs it: in the program's directory (stack/, from Pulumi.yaml `main`).
    const [a, b] = await Promise.all(
      [workstation, agent].map(async (root) => {
        const cwd = programDirectory(root);
        assert.equal(cwd, path.join(root, "stack"));
        return JSON.parse(await runTypeScript(path.join(cwd, "testing", "print-registrations.ts"), cwd)) as { cwd: string; runs: unknown[] };
      }),
    );
    assert.equal(a.cwd, path.join(workstation, "stack"));
    assert.equal(b.cwd, path.join(agent, "stack"));
    assert.ok(a.runs.length >= 4);
    assert.deepEqual(b.runs, a.runs, "inputs, options, provider calls and outputs are identical");

    for (const text of strings(a.runs)) {
      assert.ok(!text.includes(temp) && !text.includes(ROOT) && !text.includes(os.homedir()), `no machine path in ${JSON.stringify(text)}`);
      assert.ok(!/^[A-Za-z]:[\\/]/.test(text), `no Windows path: ${JSON.stringify(text)}`);
    }
  });
});
