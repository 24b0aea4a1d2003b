import * as fs from "node:fs";

/**
 * Who a PID is. A PID file outlives its process (a crash, a reboot), and the PID may then be another
 * program's: the platform records each daemon's command line and start time (field 22 of
 * /proc/<pid>/stat, in clock ticks since boot) when it starts it, and signals or reuses a PID only
 * while both still match.
 */
export interface ProcessIdentity {
  pid: number;
  startTime: string;
  cmdline: string[];
}

/** The two files of /proc that say who a process is; tests give their own. */
export interface ProcessTable {
  stat(pid: number): string | undefined;
  cmdline(pid: number): string | undefined;
}

const readOrUndefined = (file: string): string | undefined => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

export const procfs: ProcessTable = {
  stat: (pid) => readOrUndefined(`/proc/${pid}/stat`),
  cmdline: (pid) => readOrUndefined(`/proc/${pid}/cmdline`),
};

/** Field 22 of a /proc/<pid>/stat line. The command name (field 2) is in parentheses and may hold spaces and parentheses. */
export function startTimeOf(stat: string): string | undefined {
  const afterName = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // afterName[0] is field 3 (state).
  const startTime = afterName[22 - 3];
  return startTime !== undefined && /^\d+$/.test(startTime) ? startTime : undefined;
}

/** The identity of a running process, or undefined when there is none with this PID (or it is a zombie). */
export function identityOf(pid: number, proc: ProcessTable = procfs): ProcessIdentity | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 1) return undefined;
  const stat = proc.stat(pid);
  const cmdline = proc.cmdline(pid);
  if (stat === undefined || cmdline === undefined) return undefined;
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  const startTime = startTimeOf(stat);
  if (startTime === undefined || state === "Z" || state === "X") return undefined;
  return { pid, startTime, cmdline: cmdline.split("\0").slice(0, -1) };
}

/** Whether the process `recorded` describes still runs: same PID, same start time, same command line. */
export function stillRunning(recorded: ProcessIdentity, proc: ProcessTable = procfs): boolean {
  const now = identityOf(recorded.pid, proc);
  return (
    now !== undefined &&
    now.startTime === recorded.startTime &&
    now.cmdline.length === recorded.cmdline.length &&
    now.cmdline.every((arg, i) => arg === recorded.cmdline[i])
  );
}

/** A PID file's content: the identity as JSON. A file of another shape (a bare PID, as older platforms wrote) identifies nothing. */
export function parsePidFile(text: string): ProcessIdentity | undefined {
  try {
    const value = JSON.parse(text) as Partial<ProcessIdentity>;
    if (typeof value.pid === "number" && typeof value.startTime === "string" && Array.isArray(value.cmdline) && value.cmdline.every((a) => typeof a === "string")) {
      return { pid: value.pid, startTime: value.startTime, cmdline: value.cmdline };
    }
  } catch {
    // not JSON
  }
  return undefined;
}
