import * as fs from "node:fs";
import * as path from "node:path";

import { readJournal, updateJournal } from "./host-journal.js";

/**
 * The kernel settings the kubelet insists on (k8s.io/kubernetes pkg/kubelet/cm/container_manager_linux.go,
 * setupKernelTunables; values from k8s.io/component-helpers/node/util/sysctl). Without
 * `protectKernelDefaults` it writes them itself, and nothing puts them back; with it, it refuses to start
 * unless they hold. So the kubelet runs with `protectKernelDefaults: true`, and the platform sets them
 * here, recording the host's values, and puts those back at `down`. dockerd raises the root key limits to
 * the same values (daemon.ModifyRootKeyLimit), so with these set it changes none.
 */
export const KERNEL_SETTINGS: Readonly<Record<string, string>> = {
  "vm.overcommit_memory": "1",
  "vm.panic_on_oom": "0",
  "kernel.panic": "10",
  "kernel.panic_on_oops": "1",
  "kernel.keys.root_maxkeys": "1000000",
  "kernel.keys.root_maxbytes": "25000000",
};

const fileOf = (procSys: string, name: string) => path.join(procSys, ...name.split("."));
const read = (procSys: string, name: string) => fs.readFileSync(fileOf(procSys, name), "utf8").trim();

/** Sets each setting that differs, recording the host's value first. Returns what it changed. */
export function applyKernelSettings(journalFile: string, procSys = "/proc/sys"): string[] {
  const changed: string[] = [];
  for (const [name, value] of Object.entries(KERNEL_SETTINGS)) {
    const before = read(procSys, name);
    if (before === value) continue;
    updateJournal(journalFile, (j) => {
      // Recorded once: after an earlier up, `before` may be what someone set since, not the host's.
      if (!j.sysctls.some((s) => s.name === name)) j.sysctls.push({ name, before, set: value });
    });
    fs.writeFileSync(fileOf(procSys, name), value);
    changed.push(`${name} ${before} -> ${value}`);
  }
  return changed;
}

/**
 * Puts back the host's values of what `applyKernelSettings` changed. A setting someone changed since
 * (it holds neither the platform's value nor the host's) is left as it is, and said so.
 */
export function restoreKernelSettings(journalFile: string, procSys = "/proc/sys"): string[] {
  const notes: string[] = [];
  const errors: string[] = [];
  for (const { name, before, set } of [...readJournal(journalFile).sysctls].reverse()) {
    try {
      const now = read(procSys, name);
      if (now === set) {
        fs.writeFileSync(fileOf(procSys, name), before);
        notes.push(`${name} ${set} -> ${before} (restored)`);
      } else if (now !== before) {
        notes.push(`${name} is ${now}, neither the host's ${before} nor the platform's ${set}: someone changed it since; left as it is`);
      }
      updateJournal(journalFile, (j) => (j.sysctls = j.sysctls.filter((s) => s.name !== name)));
    } catch (error) {
      errors.push(`${name} (back to ${before}): ${(error as Error).message}`);
    }
  }
  if (errors.length > 0) throw new Error(`could not restore ${errors.join("; ")}`);
  return notes;
}
