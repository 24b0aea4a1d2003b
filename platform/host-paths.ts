import * as fs from "node:fs";
import * as path from "node:path";

import { readJournal, updateJournal } from "./host-journal.js";

/**
 * Paths outside the state directory that programs the platform runs create, because upstream fixes them
 * (no setting moves them). `up` records which existed; `down`, once those programs have stopped and
 * their entries are removed (containerd.ts, kubelet.ts), removes the ones that did not, if empty.
 */
export const HOST_PATHS: readonly { path: string; why: string }[] = [
  { path: "/var/lib/kubelet", why: "the kubelet: its device-plugin socket (k8s.io/kubelet pkg/apis/deviceplugin/v1beta1 DevicePluginPath)" },
  { path: "/var/lib/kubelet/device-plugins", why: "the kubelet: kubelet.sock" },
  { path: "/var/log/containers", why: "the kubelet: one link per container to its log (pkg/kubelet ContainerLogsDir)" },
  { path: "/run/containerd", why: "containerd's shims (pkg/shim socketRoot)" },
  { path: "/run/containerd/s", why: "containerd's shims: one socket per pod while it runs" },
  { path: "/var/lib/cni", why: "containerd's CNI library: its result cache (libcni CacheDir)" },
  { path: "/var/lib/cni/results", why: "one file per pod while it runs" },
  { path: "/run/docker", why: "dockerd 20.10: its plugins' directory (daemon getPluginExecRoot)" },
  { path: "/run/docker/plugins", why: "dockerd 20.10, empty unless a plugin runs" },
];

/** Records, once, which of the paths exist before the platform's programs run. */
export function recordHostPaths(journalFile: string, paths: readonly string[] = HOST_PATHS.map((p) => p.path)): void {
  updateJournal(journalFile, (j) => {
    for (const p of paths) if (!(p in j.paths)) j.paths[p] = fs.existsSync(p);
  });
}

/** Removes the recorded paths that did not exist before, deepest first, when empty; says which it had to leave. */
export function removeHostPathsMade(journalFile: string): string[] {
  const left: string[] = [];
  const made = Object.entries(readJournal(journalFile).paths)
    .filter(([, existed]) => !existed)
    .map(([p]) => p)
    .sort((a, b) => b.length - a.length);
  for (const p of made) {
    try {
      fs.rmdirSync(p);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOTEMPTY" || code === "EEXIST") left.push(`${p} (made while the platform ran) holds ${fs.readdirSync(p).join(", ")}: left`);
      else if (code !== "ENOENT") throw error;
    }
  }
  updateJournal(journalFile, (j) => {
    for (const p of made) delete j.paths[p];
  });
  return left;
}

/** The entries of `dir` that `isOurs` claims, removed; for the links, sockets and cache files the platform's programs leave. */
export function removeEntries(dir: string, isOurs: (entry: string, full: string) => boolean): number {
  let removed = 0;
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry);
    if (!isOurs(entry, full)) continue;
    fs.rmSync(full, { force: true });
    removed++;
  }
  return removed;
}

/** Whether `link` is a symbolic link to somewhere under `dir`. */
export function linksInto(link: string, dir: string): boolean {
  try {
    return path.resolve(path.dirname(link), fs.readlinkSync(link)).startsWith(dir + path.sep);
  } catch {
    return false;
  }
}
