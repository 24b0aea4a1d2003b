import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

import { paths } from "./state.js";

export const exec = promisify(execFile);

/** Runs a command to completion; its output on failure, so an error says what the tool said. */
export async function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<string> {
  return await new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(file)} ${args.join(" ")} exited ${code}:\n${(err || out).slice(-4000)}`))));
    // A command that reads no input may exit before taking it.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

const pidFile = (name: string) => path.join(paths.pids, `${name}.pid`);

/** The PID of a part this platform started, if that process still runs. */
export function runningPid(name: string): number | undefined {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(pidFile(name), "utf8"));
  } catch {
    return undefined;
  }
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

/**
 * Starts a long-running part in the background, its output to logs/<name>.log and its PID to
 * pids/<name>.pid, then waits until `ready` holds. A part already running (from an earlier `up`) is kept.
 */
export async function startDaemon(name: string, file: string, args: string[], ready: () => Promise<boolean>, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<void> {
  if (runningPid(name) === undefined) {
    fs.mkdirSync(paths.logs, { recursive: true });
    fs.mkdirSync(paths.pids, { recursive: true });
    const log = fs.openSync(path.join(paths.logs, `${name}.log`), "a");
    const child = spawn(file, args, { detached: true, stdio: ["ignore", log, log], env: options.env ?? process.env });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`${name}: ${file} did not start`);
    fs.writeFileSync(pidFile(name), String(child.pid));
    child.unref();
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (runningPid(name) === undefined) throw new Error(`${name} exited; its log ends:\n${tail(name)}`);
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${name} was not ready within ${(options.timeoutMs ?? 60_000) / 1000} s; its log ends:\n${tail(name)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function tail(name: string): string {
  try {
    return fs.readFileSync(path.join(paths.logs, `${name}.log`), "utf8").split("\n").slice(-15).join("\n");
  } catch {
    return "(no log)";
  }
}

/** Stops a part this platform started, by the PID it recorded: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopDaemon(name: string, graceMs = 10_000): Promise<void> {
  const pid = runningPid(name);
  if (pid !== undefined) {
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + graceMs;
    while (runningPid(name) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (runningPid(name) !== undefined) process.kill(pid, "SIGKILL");
    while (runningPid(name) !== undefined) await new Promise((r) => setTimeout(r, 100));
  }
  fs.rmSync(pidFile(name), { force: true });
}
