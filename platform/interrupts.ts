import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { removeTree } from "./mounts.js";

/**
 * SIGINT and SIGTERM during `up`: the commands it runs are stopped, its temporary directories removed,
 * and `up` stops at its next step and undoes what it did (index.ts). A second signal exits at once,
 * after removing the temporary directories.
 */
const tempDirs = new Set<string>();
const children = new Set<ChildProcess>();
let received: NodeJS.Signals | undefined;
let undoing = false;

export class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

/** A temporary directory that is removed if the process is interrupted (and by removeTempDir otherwise). */
export function makeTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Removes a temporary directory, after unmounting anything under it (debootstrap mounts /proc in its target). */
export function removeTempDir(dir: string): void {
  removeTree(dir);
  tempDirs.delete(dir);
}

/** A command the platform waits for: stopped on an interrupt. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.on("exit", () => children.delete(child));
}

export function throwIfInterrupted(): void {
  if (received && !undoing) throw new Interrupted(received);
}

/** Runs `undo` (down, or undoing a failed up) to its end: a first signal meanwhile stops nothing. */
export async function withoutInterrupts<T>(undo: () => Promise<T>): Promise<T> {
  undoing = true;
  try {
    return await undo();
  } finally {
    undoing = false;
  }
}

/** How long after a first signal the same interrupt may still be arriving (by another route). */
const REPEAT_MS = 1000;

/** Installs the handlers; `log` says what happens. */
export function trapInterrupts(log: (line: string) => void): void {
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    // Ctrl-C reaches every process of the terminal's group, and npm and tsx pass it on once more: one
    // keypress arrives two or three times within milliseconds. Only a signal after that is a second one.
    if (received && Date.now() - firstAt < REPEAT_MS) return;
    if (received) {
      log(`${signal} again: exiting now`);
      removeAllTempDirs();
      process.exit(128 + os.constants.signals[signal]);
    }
    received = signal;
    firstAt = Date.now();
    process.exitCode = 128 + os.constants.signals[signal];
    if (undoing) {
      log(`${signal}: undoing what up did continues, so that nothing is left (${signal} again to exit at once)`);
      return;
    }
    log(`${signal}: stopping, and undoing what was done (${signal} again to exit at once)`);
    // The temporary directories go once the commands that write in them have stopped.
    const running = [...children];
    for (const child of running) child.kill("SIGTERM");
    setTimeout(() => running.forEach((child) => child.kill("SIGKILL")), 10_000).unref();
    void Promise.all(running.map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once("exit", resolve))))).then(removeAllTempDirs);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

function removeAllTempDirs(): void {
  for (const dir of tempDirs) {
    try {
      removeTempDir(dir);
    } catch {
      // a second attempt comes from the step's own cleanup
    }
  }
}
