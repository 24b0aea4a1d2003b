/**
 * For tests: the emulator's command line run as a person runs it, in this process (runMain) or in a
 * process of its own (runCli: for what only a process can be given, such as NODE_EXTRA_CA_CERTS, read
 * once at start, or to see that it exits).
 */
import { spawn } from "node:child_process";
import path from "node:path";

import { main } from "../index.js";

const INDEX = path.resolve(import.meta.dirname, "..", "index.ts");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs main() as `npm run adf -- …argv` would, with what it prints on stdout and stderr. */
export async function runMain(argv: string[]): Promise<CliRun> {
  let stdout = "";
  let stderr = "";
  const code = await main(argv, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t) });
  return { code, stdout, stderr };
}

/** Runs `npm run adf -- …args`; a run still going after `limitMs` is killed (code null), so none outlives a test. */
export function runCli(args: string[], env: Record<string, string> = {}, limitMs = 15_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", INDEX, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const limit = setTimeout(() => child.kill("SIGKILL"), limitMs);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", (err) => {
      clearTimeout(limit);
      reject(err);
    });
    child.on("close", (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    });
  });
}
