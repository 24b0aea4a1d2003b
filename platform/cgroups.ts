import * as fs from "node:fs";
import * as path from "node:path";

import { mountsOfType } from "./mounts.js";
import { CGROUP_ROOT } from "./network.js";

// CGROUP_ROOT (network.ts) is the cgroup the pods and the build containers run under, in every hierarchy:
// the kubelet's `cgroupRoot` and dockerd's `--cgroup-parent`, so their cgroups are neither the host's
// `kubepods` nor its `docker`. `up` makes it; `down`, once every container has stopped, removes it with
// everything under it.
export { CGROUP_ROOT };

/** The mount points of the cgroup hierarchies (v1 controllers, the v2 unified one). */
export const cgroupHierarchies = (mountTable: string): string[] => mountsOfType(mountTable, ["cgroup", "cgroup2"]);

export function makeCgroupRoot(hierarchies: readonly string[]): void {
  for (const h of hierarchies) fs.mkdirSync(path.join(h, CGROUP_ROOT), { recursive: true });
}

/** Removes the platform's cgroup in each hierarchy, deepest first; a cgroup with a process left in it cannot go, and is named. */
export function removeCgroupRoot(hierarchies: readonly string[]): void {
  const errors: string[] = [];
  for (const h of hierarchies) {
    const root = path.join(h, CGROUP_ROOT);
    if (!fs.existsSync(root)) continue;
    for (const dir of [...subdirectories(root), root].sort((a, b) => b.length - a.length)) {
      try {
        fs.rmdirSync(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") errors.push(`${dir}: ${(error as Error).message}`);
      }
    }
  }
  if (errors.length > 0) throw new Error(`cgroups left: ${errors.join("; ")}`);
}

/** The directories under `dir` (a cgroup's files are not directories). */
function subdirectories(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).flatMap((e) => [path.join(dir, e.name), ...subdirectories(path.join(dir, e.name))]);
}
