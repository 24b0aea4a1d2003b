import * as fs from "node:fs";

/** Shims of this platform's containerd that still run: their program is the platform's shim and their command line names its socket. */
export function leftoverShims(shim: string, socket: string, proc = "/proc"): number[] {
  const pids: number[] = [];
  for (const entry of fs.readdirSync(proc)) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string[];
    try {
      cmdline = fs.readFileSync(`${proc}/${entry}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    if (cmdline[0] === shim && cmdline.includes(socket)) pids.push(Number(entry));
  }
  return pids;
}

export async function killLeftoverShims(shim: string, socket: string): Promise<number> {
  const pids = leftoverShims(shim, socket);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return pids.length;
}
