import * as fs from "node:fs";

import { run } from "./processes.js";

/**
 * What the platform takes from Debian: the Docker engine and client (20.10) with its runc, libseccomp for our own runc, the distribution
 * registry, debootstrap for the base image's stand-in, and openssl for the certificates.
 */
const PACKAGES: Record<string, string> = {
  "docker.io": "/usr/sbin/dockerd",
  // runc is built from source with seccomp: it links libseccomp.
  "libseccomp-dev": "/usr/include/seccomp.h",
  "pkg-config": "/usr/bin/pkg-config",
  gcc: "/usr/bin/gcc",
  "docker-registry": "/usr/bin/docker-registry",
  debootstrap: "/usr/sbin/debootstrap",
  openssl: "/usr/bin/openssl",
  iproute2: "/usr/sbin/ip",
};

/** Debian's hook that maintainer scripts ask before starting a service (invoke-rc.d, deb-systemd-invoke); 101 means "do not". */
export const POLICY_RC_D = "/usr/sbin/policy-rc.d";
const DENY_STARTS = "#!/bin/sh\n# Written by the adf-webhook-aks platform while it installs packages, removed after: start no service.\nexit 101\n";

export interface PackageHost {
  isRoot(): boolean;
  run(file: string, args: string[], options?: { env?: NodeJS.ProcessEnv }): Promise<string>;
  exists(file: string): boolean;
  writeExecutable(file: string, text: string): void;
  remove(file: string): void;
  /** Start links of the System V init scripts, /etc/rc?.d/S*. */
  rcStartLinks(): string[];
}

const debianHost: PackageHost = {
  isRoot: () => process.getuid?.() === 0,
  run,
  exists: fs.existsSync,
  writeExecutable: (file, text) => fs.writeFileSync(file, text, { mode: 0o755, flag: "wx" }),
  remove: (file) => fs.rmSync(file, { force: true }),
  rcStartLinks: () =>
    ["2", "3", "4", "5", "S"].flatMap((level) => {
      try {
        return fs.readdirSync(`/etc/rc${level}.d`).filter((f) => f.startsWith("S"));
      } catch {
        return [];
      }
    }),
};

/**
 * Installs what is missing, once. The platform runs its own daemons, so the packages' system services
 * (docker, containerd, docker-registry) are neither started during the install (a policy-rc.d that
 * says no, unless the host has its own) nor left enabled after it (what the install enabled is disabled).
 */
export async function ensureDebianPackages(log: (line: string) => void, host: PackageHost = debianHost): Promise<void> {
  const missing = Object.entries(PACKAGES).filter(([, file]) => !host.exists(file)).map(([name]) => name);
  if (missing.length === 0) return;
  if (!host.isRoot()) throw new Error(`the platform needs these Debian packages, and root to install them: ${missing.join(" ")}`);
  log(`installing Debian packages: ${missing.join(" ")} (their services neither started nor enabled) ...`);
  const unitsBefore = await enabledUnits(host);
  const rcBefore = host.rcStartLinks();
  const ownPolicy = !host.exists(POLICY_RC_D);
  if (ownPolicy) host.writeExecutable(POLICY_RC_D, DENY_STARTS);
  try {
    await host.run("apt-get", ["update", "-qq"]);
    await host.run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  } finally {
    if (ownPolicy) host.remove(POLICY_RC_D);
  }
  const units = (await enabledUnits(host)).filter((u) => !unitsBefore.includes(u));
  if (units.length > 0) {
    log(`disabling what the install enabled: ${units.join(" ")}`);
    await host.run("systemctl", ["disable", ...units]);
  }
  const scripts = [...new Set(host.rcStartLinks().filter((l) => !rcBefore.includes(l)).map((l) => l.replace(/^S\d*/, "")))];
  for (const script of scripts) await host.run("update-rc.d", [script, "disable"]);
}

/** Units enabled on this host; none where systemctl is absent. */
async function enabledUnits(host: PackageHost): Promise<string[]> {
  if (!host.exists("/usr/bin/systemctl") && !host.exists("/bin/systemctl")) return [];
  const listing = await host.run("systemctl", ["list-unit-files", "--state=enabled", "--no-legend"]);
  return listing.split("\n").map((line) => line.split(/\s+/)[0]).filter(Boolean);
}
