import * as fs from "node:fs";
import * as path from "node:path";

import { containerd } from "./builds.js";
import { CONTAINERD_SOCKET } from "./containerd.js";
import { binDir } from "./go-build.js";
import { run } from "./processes.js";
import { STATE } from "./state.js";

/**
 * What outlives its daemon: the pods' containers (each under a containerd shim, which keeps running
 * when containerd stops) and the mounts that containerd, the kubelet and Docker made under the state
 * directory. Only what this platform started is touched: containers of its own containerd, shims that
 * name its socket, and mounts under its own state directory.
 */
export async function removeContainers(): Promise<void> {
  if (!fs.existsSync(CONTAINERD_SOCKET)) return;
  const ctr = (args: string[]) => run(path.join(binDir(containerd), "ctr"), ["--address", CONTAINERD_SOCKET, "--namespace", "k8s.io", ...args]);
  const tasks = (await ctr(["tasks", "ls", "-q"]).catch(() => "")).split("\n").filter(Boolean);
  for (const id of tasks) await ctr(["tasks", "kill", "--signal", "SIGKILL", id]).catch(() => undefined);
  for (const id of tasks) await ctr(["tasks", "delete", "--force", id]).catch(() => undefined);
}

/** Shims of this platform's containerd that are still running: they name its socket on their command line. */
export function leftoverShims(): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (cmdline.startsWith(path.join(binDir(containerd), "containerd-shim-runc-v2")) && cmdline.includes(CONTAINERD_SOCKET)) pids.push(Number(entry));
  }
  return pids;
}

export async function killLeftoverShims(): Promise<void> {
  for (const pid of leftoverShims()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

/** Unmounts everything mounted under the state directory, deepest first. */
export async function unmountState(): Promise<void> {
  const mounts = fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[1]?.replace(/\\040/g, " "))
    .filter((mountpoint): mountpoint is string => mountpoint !== undefined && (mountpoint === STATE || mountpoint.startsWith(STATE + path.sep)))
    .sort((a, b) => b.length - a.length);
  for (const mountpoint of mounts) await run("umount", ["--lazy", mountpoint]).catch(() => undefined);
}
