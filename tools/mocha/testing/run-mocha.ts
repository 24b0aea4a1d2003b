/**
 * For tools/mocha/mocha-config.test.ts: mocha run as `npm test` runs it (this repository's
 * .mocharc.json, from the repository root) on one of tools/mocha/fixtures/, in a process of its own.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..", "..", "..");
const MOCHA = path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js");
const FIXTURES = path.resolve(import.meta.dirname, "..", "fixtures");

export interface MochaRun {
  code: number | null;
  output: string;
}

export function runMocha(fixture: string): Promise<MochaRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MOCHA, path.join(FIXTURES, fixture)], {
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
