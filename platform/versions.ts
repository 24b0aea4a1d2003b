import * as fs from "node:fs";
import * as path from "node:path";

/**
 * What the local platform runs, pinned. Each Go program is built from the Go module proxy at exactly this
 * version and cached under it, and each binary's own version report is checked before it is used.
 */

/** A Kubernetes minor that AKS supports (Microsoft Learn, "Supported Kubernetes versions in AKS"). */
export const KUBERNETES = "v1.34.4";
/** The etcd that Kubernetes 1.34 is tested with is 3.6; this is that line's newest release. */
export const ETCD = "v3.6.16";
/** The container runtime of the node: containerd 2 (Kubernetes 1.34 wants 1.7.28+ or 2.x); Debian's runc runs the containers. */
export const CONTAINERD = "v2.2.9";
export const CNI_PLUGINS = "v1.9.1";
/** runc with seccomp (libseccomp from Debian); containerd 2.2 is tested with runc 1.3 and later. */
export const RUNC = "v1.4.4";

const REPO = path.resolve(import.meta.dirname, "..");

/** The Node.js line of the image: the major of the Dockerfile's NODE_IMAGE default, for the base image's stand-in. */
export function nodeImage(): string {
  const dockerfile = fs.readFileSync(path.join(REPO, "api/Dockerfile"), "utf8");
  const m = /^ARG NODE_IMAGE=(\S+)$/m.exec(dockerfile);
  if (!m) throw new Error("api/Dockerfile declares no ARG NODE_IMAGE default");
  return m[1];
}
