import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const STEP = path.join(import.meta.dirname, "testing", "interrupted-step.ts");

/** Runs the step, sends `signal` once it has printed its temporary directory; resolves with the directory, the exit and the output. */
function interrupt(signal: NodeJS.Signals, times = 1): Promise<{ dir: string; code: number | null; stderr: string; sleepers: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", STEP], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
      // Repeats 50 ms apart: sent at once, the kernel would merge them into one.
      if (stdout.endsWith("\n")) for (let i = 0; i < times; i++) setTimeout(() => child.kill(signal), i * 50);
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const dir = stdout.trim();
      // The command it ran (sleep 30 in that directory) must be gone too.
      const sleepers = fs.readdirSync("/proc").some((pid) => {
        try {
          return /^\d+$/.test(pid) && fs.readlinkSync(`/proc/${pid}/cwd`) === dir;
        } catch {
          return false;
        }
      });
      resolve({ dir, code, stderr, sleepers });
    });
  });
}

describe("platform: an interrupted up", () => {
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    it(`on ${signal}, stops the command it runs, removes its temporary directory and exits ${code}`, async () => {
      const result = await interrupt(signal);
      assert.match(result.dir, /interrupted-step-/);
      assert.equal(fs.existsSync(result.dir), false, `${result.dir} is left`);
      assert.equal(result.sleepers, false, "the command it ran still runs");
      assert.equal(result.code, code, result.stderr);
      assert.match(result.stderr, new RegExp(`${signal}: stopping, and undoing what was done`));
    });
  }

  it("takes one Ctrl-C that arrives more than once (the terminal's group, npm and tsx each pass it on) as one", async () => {
    const result = await interrupt("SIGINT", 3);
    assert.equal(fs.existsSync(result.dir), false);
    assert.equal(result.code, 130);
    assert.doesNotMatch(result.stderr, /again: exiting now/);
    assert.match(result.stderr, /step failed: sleep 30 was stopped by SIGTERM:?\nundone\n/, `the undoing was cut short: ${result.stderr}`);
  });
});
