import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import { CGROUP_ROOT } from "../cgroups.js";
import { DEVICE_PLUGIN_SOCKET } from "../kubelet.js";
import { HOST_PATHS } from "../host-paths.js";
import { CACHE, STATE } from "../state.js";

/**
 * What the platform could change on a host, read the same way before `up`, while it runs and after
 * `down` (e2e/platform.e2e.ts). Things other programs on a shared machine change on their own (counters,
 * `ip netns` namespaces and buildah's mounts of the container-smoke tool) are left out.
 */
export interface HostSnapshot {
  sysctls: Record<string, string>;
  links: string;
  addresses: string;
  routes: string;
  iptables: string;
  mounts: string[];
  paths: Record<string, string[] | "absent">;
  cgroups: string[];
  platformProcesses: string[];
}

/** Kernel values that move by themselves: counters, random numbers, the kernel's own tuning under load. */
const VOLATILE = /^(fs\.(dentry-state|file-nr|inode-nr|inode-state|aio-nr|quota\.)|kernel\.(ns_last_pid|random\.|pty\.nr|perf_event_max_sample_rate)|net\.netfilter\.nf_conntrack_count)/;

const sh = (file: string, args: string[]) => {
  try {
    return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] });
  } catch (error) {
    return (error as { stdout?: string }).stdout ?? "";
  }
};

export function sysctls(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of sh("sysctl", ["-a"]).split("\n")) {
    const at = line.indexOf(" = ");
    if (at > 0 && !VOLATILE.test(line)) values[line.slice(0, at)] = line.slice(at + 3);
  }
  return values;
}

const listing = (p: string): string[] | "absent" => {
  try {
    return fs.statSync(p).isDirectory() ? fs.readdirSync(p).sort() : ["(file)"];
  } catch {
    return "absent";
  }
};

export function takeSnapshot(): HostSnapshot {
  const watched = [...HOST_PATHS.map((p) => p.path), DEVICE_PLUGIN_SOCKET, "/var/run/netns", "/var/run/nri", "/etc/docker", "/usr/libexec/kubernetes", "/var/log/pods"];
  const cgroupMounts = fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f[2] === "cgroup" || f[2] === "cgroup2")
    .map((f) => f[1]);
  return {
    sysctls: sysctls(),
    links: sh("ip", ["-br", "link"]).split("\n").map((l) => l.split(/\s+/)[0]).sort().join(" "),
    addresses: sh("ip", ["-br", "-4", "addr"]).split("\n").sort().join("\n"),
    routes: sh("ip", ["-4", "route", "show", "table", "all"]).split("\n").sort().join("\n"),
    iptables: sh("iptables-save", []).split("\n").filter((l) => !l.startsWith("#")).map((l) => l.replace(/\[\d+:\d+\]/, "")).join("\n"),
    mounts: fs
      .readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .map((l) => l.split(" ")[1])
      .filter((m) => m && !m.startsWith("/run/netns/") && !m.startsWith("/var/lib/containers/") && !m.startsWith("/run/containers/"))
      .sort(),
    paths: Object.fromEntries(watched.map((p) => [p, p === "/var/run/netns" ? filterNetns(listing(p)) : listing(p)])),
    cgroups: cgroupMounts.flatMap((h) => ["kubepods", "docker", CGROUP_ROOT].filter((name) => fs.existsSync(path.join(h, name))).map((name) => path.join(h, name))),
    platformProcesses: platformProcesses(),
  };
}

/** containerd names the pods' network namespaces cni-<uuid>; `ip netns add` by other tools names them otherwise. */
const filterNetns = (entries: string[] | "absent") => (entries === "absent" ? entries : entries.filter((e) => e.startsWith("cni-")));

/** Processes of the platform: its binaries (the cache), or naming its state directory (dockerd, the registry, shims). */
export function platformProcesses(): string[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .flatMap((pid) => {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        return argv[0].startsWith(CACHE) || argv.some((a) => a.includes(STATE)) ? [`${pid} ${argv.join(" ").trim()}`] : [];
      } catch {
        return [];
      }
    });
}
