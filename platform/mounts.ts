import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The mounts under a directory the platform owns (its state directory, a temporary build directory),
 * and its removal: unmounted deepest first, and deleted only when nothing is mounted under it any more,
 * so a delete never reaches through a mount into the host's files.
 */

/** Mount points in a mount table (/proc/self/mounts) strictly under `dir`, deepest first. */
export function mountsUnder(table: string, dir: string): string[] {
  if (!path.isAbsolute(dir) || path.resolve(dir) !== dir || dir === path.parse(dir).root) {
    throw new Error(`mountsUnder: ${JSON.stringify(dir)} is not a canonical directory below the root`);
  }
  return table
    .split("\n")
    .map((line) => line.split(" ")[1])
    .filter((field): field is string => field !== undefined && field !== "")
    .map(unescapeMountField)
    .filter((mountpoint) => mountpoint.startsWith(dir + path.sep))
    .sort((a, b) => b.length - a.length);
}

/** Mount points of file systems of these types, e.g. the cgroup hierarchies. */
export function mountsOfType(table: string, types: readonly string[]): string[] {
  return table
    .split("\n")
    .map((line) => line.split(" "))
    .filter((fields) => fields[1] !== undefined && types.includes(fields[2] ?? ""))
    .map((fields) => unescapeMountField(fields[1]));
}

/** The kernel writes a space, tab, newline and backslash in a mount point as \040, \011, \012 and \134. */
const unescapeMountField = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));

export interface MountOps {
  table(): string;
  unmount(mountpoint: string): void;
}

export const hostMounts: MountOps = {
  table: () => fs.readFileSync("/proc/self/mounts", "utf8"),
  unmount: (mountpoint) => {
    const result = spawnSync("umount", ["--lazy", mountpoint], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`umount ${mountpoint}: ${(result.stderr || result.error?.message || "").trim()}`);
  },
};

/** Unmounts everything under `dir`; returns the mount points still there afterwards. */
export function unmountUnder(dir: string, ops: MountOps = hostMounts): string[] {
  for (const mountpoint of mountsUnder(ops.table(), dir)) {
    try {
      ops.unmount(mountpoint);
    } catch {
      // checked below
    }
  }
  return mountsUnder(ops.table(), dir);
}

/** Deletes `dir` after unmounting what is under it; refuses while anything stays mounted there. */
export function removeTree(dir: string, ops: MountOps = hostMounts): void {
  const left = unmountUnder(dir, ops);
  if (left.length > 0) throw new Error(`not deleting ${dir}: still mounted under it: ${left.join(", ")}`);
  fs.rmSync(dir, { recursive: true, force: true });
}
