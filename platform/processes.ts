import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

import { throwIfInterrupted, trackChild } from "./interrupts.js";
import { identityOf, parsePidFile, procfs, stillRunning, type ProcessIdentity, type ProcessTable } from "./process-identity.js";
import { paths } from "./state.js";

export const exec = promisify(execFile);

/** Runs a command to completion; its output on failure, so an error says what the tool said. Stopped on an interrupt. */
export async function run(file: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<string> {
  throwIfInterrupted();
  return await new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ["pipe", "pipe", "pipe"] });
    trackChild(child);
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code, signal) => (code === 0 ? resolve(out) : reject(new Error(`${path.basename(file)} ${args.join(" ")} ${signal ? `was stopped by ${signal}` : `exited ${code}`}:\n${(err || out).slice(-4000)}`))));
    // A command that reads no input may exit before taking it.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

const pidFile = (name: string) => path.join(paths.pids, `${name}.pid`);

function recorded(name: string): ProcessIdentity | undefined {
  try {
    return parsePidFile(fs.readFileSync(pidFile(name), "utf8"));
  } catch {
    return undefined;
  }
}

/** The PID of a part this platform started, if that very process still runs (same start time and command line). */
export function runningPid(name: string, proc: ProcessTable = procfs): number | undefined {
  const identity = recorded(name);
  return identity && stillRunning(identity, proc) ? identity.pid : undefined;
}

/**
 * Starts a long-running part in the background, its output to logs/<name>.log and its identity to
 * pids/<name>.pid, then waits until `ready` holds. A part already running (from an earlier `up`) is kept.
 */
export async function startDaemon(name: string, file: string, args: string[], ready: () => Promise<boolean>, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<void> {
  throwIfInterrupted();
  if (runningPid(name) === undefined) {
    fs.mkdirSync(paths.logs, { recursive: true });
    fs.mkdirSync(paths.pids, { recursive: true });
    const log = fs.openSync(path.join(paths.logs, `${name}.log`), "a");
    const child = spawn(file, args, { detached: true, stdio: ["ignore", log, log], env: options.env ?? process.env });
    fs.closeSync(log);
    if (child.pid === undefined) throw new Error(`${name}: ${file} did not start`);
    // spawn returns once the program is exec'd, so /proc shows it, not the fork of this process.
    const identity = identityOf(child.pid) ?? { pid: child.pid, startTime: "", cmdline: [file, ...args] };
    fs.writeFileSync(pidFile(name), JSON.stringify(identity) + "\n");
    child.unref();
  }
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    throwIfInterrupted();
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

export interface Signaller {
  proc: ProcessTable;
  kill(pid: number, signal: NodeJS.Signals): void;
  sleep(ms: number): Promise<void>;
}

const hostSignaller: Signaller = {
  proc: procfs,
  kill: (pid, signal) => process.kill(pid, signal),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** Stops a part this platform started, by its PID file; returns what it did. */
export async function stopDaemon(name: string, graceMs = 10_000): Promise<string> {
  const file = pidFile(name);
  if (!fs.existsSync(file)) return `${name}: not running`;
  const identity = recorded(name);
  const outcome = identity
    ? await stopProcess(name, identity, graceMs)
    : `${name}: ${file} does not identify a process (start time and command line): nothing signalled`;
  fs.rmSync(file, { force: true });
  return outcome;
}

/**
 * SIGTERM, then SIGKILL after `graceMs`, each sent only while the recorded process (PID, start time,
 * command line) is still the one running: a PID that now belongs to another program is left alone.
 */
export async function stopProcess(name: string, identity: ProcessIdentity, graceMs: number, host: Signaller = hostSignaller): Promise<string> {
  const running = () => stillRunning(identity, host.proc);
  const signal = (sig: NodeJS.Signals) => {
    try {
      host.kill(identity.pid, sig);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  };
  if (!running()) return identityOf(identity.pid, host.proc) ? `${name}: PID ${identity.pid} is now another process: not signalled` : `${name}: had exited`;
  signal("SIGTERM");
  const waitUntil = async (deadline: number) => {
    while (running() && Date.now() < deadline) await host.sleep(100);
  };
  await waitUntil(Date.now() + graceMs);
  if (!running()) return `${name}: stopped (PID ${identity.pid})`;
  signal("SIGKILL");
  await waitUntil(Date.now() + 10_000);
  if (running()) throw new Error(`${name}: PID ${identity.pid} did not exit after SIGKILL`);
  return `${name}: killed (PID ${identity.pid}) after ${graceMs / 1000} s`;
}
