import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import type { Ip } from "../host-network.js";
import type { MountOps } from "../mounts.js";
import type { ProcessTable } from "../process-identity.js";

/** A temporary directory for one test, with its cleanup. */
export function tempDir(prefix = "platform-test-"): { dir: string; remove: () => void } {
  const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), prefix)));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A /proc/<pid>/stat line as the kernel writes it, with `startTime` as field 22. */
export function statLine(pid: number, comm: string, startTime: string, state = "S"): string {
  // Fields 3..21, then 22 (starttime), then a few more.
  const middle = ["1", pid, pid, "0", "-1", "4194560", "100", "0", "0", "0", "5", "3", "0", "0", "20", "0", "8", "0"];
  return `${pid} (${comm}) ${state} ${middle.join(" ")} ${startTime} 123456 789 18446744073709551615\n`;
}

/** A process table of processes the test describes: pid -> stat line and argv. */
export function fakeProcesses(processes: Map<number, { stat: string; argv: string[] }>): ProcessTable {
  return {
    stat: (pid) => processes.get(pid)?.stat,
    cmdline: (pid) => {
      const p = processes.get(pid);
      return p && p.argv.map((a) => `${a}\0`).join("");
    },
  };
}

/** A mount table the test owns; unmounting removes a line, or fails for the mount points in `stuck`. */
export function fakeMounts(mountpoints: string[], stuck: string[] = []): MountOps & { unmounted: string[] } {
  let lines = mountpoints.map((m) => `tmpfs ${m.replace(/ /g, "\\040")} tmpfs rw 0 0`);
  const unmounted: string[] = [];
  return {
    unmounted,
    table: () => lines.join("\n") + "\n",
    unmount: (mountpoint) => {
      if (stuck.includes(mountpoint)) throw new Error(`umount ${mountpoint}: target is busy`);
      unmounted.push(mountpoint);
      lines = lines.filter((l) => l.split(" ")[1].replace(/\\040/g, " ") !== mountpoint);
    },
  };
}

/** `ip` with canned answers: `links` exist, `addrs` and `routes` are what `ip -j` prints; every call is recorded. */
export function fakeIp(state: { links: string[]; addrs?: unknown[]; routes?: unknown[] }): Ip & { calls: string[][] } {
  const calls: string[][] = [];
  const ip = async (args: string[]): Promise<string> => {
    calls.push(args);
    const [a, b, c] = args;
    if (a === "link" && b === "show") {
      if (!state.links.includes(c)) throw new Error(`Device "${c}" does not exist.`);
      return "";
    }
    if (a === "link" && b === "add") state.links.push(c);
    if (a === "link" && b === "delete") state.links = state.links.filter((l) => l !== c);
    if (a === "-j" && args.includes("addr")) return JSON.stringify(state.addrs ?? []);
    if (a === "-j" && args.includes("route")) return JSON.stringify(state.routes ?? []);
    return "";
  };
  return Object.assign(ip, { calls });
}
