import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

import { binDir } from "./go-build.js";
import { cniPlugins, containerd, runc } from "./builds.js";
import { linksInto, removeEntries } from "./host-paths.js";
import { killLeftoverShims } from "./leftover-shims.js";
import { CNI_NETWORK, POD_BRIDGE, REGISTRY } from "./network.js";
import { run, startDaemon, stopDaemon } from "./processes.js";
import { paths } from "./state.js";

export { NODE_IP } from "./network.js";

export const CONTAINERD_SOCKET = path.join(paths.containerd, "containerd.sock");
const CONFIG = path.join(paths.containerd, "config.toml");
const ctrBinary = () => path.join(binDir(containerd), "ctr");

/**
 * containerd 2's configuration: its CRI plugin for the kubelet, containers run by runc with cgroupfs,
 * images pulled from the local registry over plain HTTP, pods networked by the CNI bridge plugin. What
 * it would otherwise put on the host goes under its root: the pods' network namespaces (not
 * /var/run/netns) and runc's state (not /run/containerd/runc); NRI, which would listen on
 * /var/run/nri/nri.sock, is off.
 */
export function containerdConfig(root: string, socket: string, pauseImage: string): string {
  return `version = 3
root = "${path.join(root, "root")}"
state = "${path.join(root, "state")}"

[grpc]
  address = "${socket}"

[plugins."io.containerd.nri.v1.nri"]
  disable = true

[plugins."io.containerd.cri.v1.images"]
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "${pauseImage}"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "${path.join(root, "certs.d")}"

[plugins."io.containerd.cri.v1.runtime"]
  # Root here lacks CAP_SYS_RESOURCE, so no process may lower its OOM score below containerd's own;
  # the pod sandbox's -998 would fail every pod ("failed to update /proc/self/oom_score_adj").
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "${path.join(binDir(runc), "runc")}"
        Root = "${path.join(root, "runc")}"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["${binDir(cniPlugins)}"]
    conf_dir = "${path.join(root, "net.d")}"
`;
}

/**
 * The pod network: CNI's bridge plugin on the platform's bridge (host-network.ts makes it with the
 * node's address), one address per pod from host-local. Not the pods' gateway, so the plugin turns on
 * no IP forwarding; no masquerading: pods reach the node's address and one another, nothing beyond.
 */
export function cniConfig(ipamDir: string): object {
  return {
    cniVersion: "1.0.0",
    name: CNI_NETWORK,
    plugins: [
      { type: "bridge", bridge: POD_BRIDGE.name, isGateway: false, ipMasq: false, ipam: { type: "host-local", ranges: [[{ subnet: POD_BRIDGE.cidr, gateway: POD_BRIDGE.address }]], dataDir: ipamDir } },
      { type: "loopback" },
    ],
  };
}

export async function startContainerd(pauseImage: string): Promise<void> {
  const root = paths.containerd;
  fs.mkdirSync(path.join(root, "certs.d", REGISTRY), { recursive: true });
  fs.writeFileSync(
    path.join(root, "certs.d", REGISTRY, "hosts.toml"),
    `server = "http://${REGISTRY}"\n\n[host."http://${REGISTRY}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
  const netd = path.join(root, "net.d");
  fs.mkdirSync(netd, { recursive: true });
  fs.writeFileSync(path.join(netd, "10-platform.conflist"), JSON.stringify(cniConfig(path.join(root, "ipam"))));
  fs.writeFileSync(CONFIG, containerdConfig(root, CONTAINERD_SOCKET, pauseImage));
  await startDaemon(
    "containerd",
    path.join(binDir(containerd), "containerd"),
    ["--config", CONFIG],
    async () => {
      await run(ctrBinary(), ["--address", CONTAINERD_SOCKET, "version"]);
      return true;
    },
    // The shim is found on PATH.
    { env: { ...process.env, PATH: `${binDir(containerd)}:${process.env.PATH ?? ""}` } },
  );
}

/**
 * Stops containerd and what outlives it: the pods' containers (each under a shim, which keeps running
 * when containerd stops), then containerd, then any shim left, and the files they leave on the host:
 * their sockets in /run/containerd/s and the CNI cache files in /var/lib/cni/results.
 */
export async function stopContainerd(): Promise<string> {
  const ids = await removeContainers();
  const stopped = await stopDaemon("containerd");
  const killed = await killLeftoverShims(path.join(binDir(containerd), "containerd-shim-runc-v2"), CONTAINERD_SOCKET);
  const sockets = new Set(ids.flatMap((id) => [shimSocketName(CONTAINERD_SOCKET, id, false), shimSocketName(CONTAINERD_SOCKET, id, true)]));
  const removedSockets = removeEntries("/run/containerd/s", (entry) => sockets.has(entry));
  // libcni's cache file per pod and network: <network>-<pod sandbox ID>-<interface>; containerd's own loopback network is "cni-loopback".
  const removedCache = removeEntries("/var/lib/cni/results", (entry) => ids.some((id) => entry === `${CNI_NETWORK}-${id}-eth0` || entry === `cni-loopback-${id}-lo`));
  return `${stopped}; ${ids.length} containers removed, ${killed} shims killed, ${removedSockets} shim sockets and ${removedCache} CNI cache files removed`;
}

/** The pods' containers of this platform's containerd, killed and deleted; returns their IDs. */
async function removeContainers(): Promise<string[]> {
  if (!fs.existsSync(CONTAINERD_SOCKET)) return [];
  const ctr = (args: string[]) => run(ctrBinary(), ["--address", CONTAINERD_SOCKET, "--namespace", "k8s.io", ...args]);
  const ids = (await ctr(["containers", "ls", "-q"]).catch(() => "")).split("\n").filter(Boolean);
  const tasks = (await ctr(["tasks", "ls", "-q"]).catch(() => "")).split("\n").filter(Boolean);
  for (const id of tasks) await ctr(["tasks", "kill", "--signal", "SIGKILL", id]).catch(() => undefined);
  for (const id of tasks) await ctr(["tasks", "delete", "--force", id]).catch(() => undefined);
  return ids;
}

/** The name of a shim's socket in /run/containerd/s: a hash of containerd's socket, the namespace and the shim's (pod's) ID (containerd pkg/shim SocketAddress). */
export function shimSocketName(containerdSocket: string, id: string, debug: boolean): string {
  return createHash("sha256").update(path.join(containerdSocket, "k8s.io", id, ...(debug ? ["debug"] : []))).digest("hex");
}

/** The kubelet's links to container logs in /var/log/containers that point into this platform's state. */
export const removeContainerLogLinks = (podLogs: string) => removeEntries("/var/log/containers", (_, full) => linksInto(full, podLogs));
