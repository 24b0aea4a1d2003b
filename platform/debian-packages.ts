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

export async function ensureDebianPackages(log: (line: string) => void): Promise<void> {
  const missing = Object.entries(PACKAGES).filter(([, file]) => !fs.existsSync(file)).map(([name]) => name);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`the platform needs these Debian packages, and root to install them: ${missing.join(" ")}`);
  log(`installing Debian packages: ${missing.join(" ")} ...`);
  await run("apt-get", ["update", "-qq"]);
  await run("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...missing], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
}
