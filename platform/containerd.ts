import * as fs from "node:fs";
import * as path from "node:path";

import { binDir } from "./go-build.js";
import { cniPlugins, containerd, runc } from "./builds.js";
import { run, startDaemon } from "./processes.js";
import { paths, REGISTRY } from "./state.js";

export const CONTAINERD_SOCKET = path.join(paths.containerd, "containerd.sock");
/**
 * The pod network: the bridge `cni-platform0` with one address per pod, nothing routed beyond it (no
 * masquerading). Its first address is the node's: the kubelet refuses a loopback node IP, and the API
 * server reaches the kubelet there (logs, port-forward). The range exists only on this machine.
 */
export const POD_CIDR = "10.244.0.0/24";
export const BRIDGE = "cni-platform0";
export const NODE_IP = "10.244.0.1";

/** The bridge, made before any pod so the node has its address from the start; CNI's bridge plugin reuses it. */
export async function ensureBridge(): Promise<void> {
  const exists = await run("ip", ["link", "show", BRIDGE]).then(() => true, () => false);
  if (!exists) await run("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  const addresses = await run("ip", ["-o", "addr", "show", "dev", BRIDGE]);
  if (!addresses.includes(`${NODE_IP}/24`)) await run("ip", ["addr", "add", `${NODE_IP}/24`, "dev", BRIDGE]);
  await run("ip", ["link", "set", BRIDGE, "up"]);
}

export async function removeBridge(): Promise<void> {
  await run("ip", ["link", "delete", BRIDGE]).catch(() => undefined);
}

/**
 * containerd 2 with its CRI plugin, for the kubelet: containers run by runc with cgroupfs,
 * images pulled from the local registry over plain HTTP, pods networked by the CNI bridge plugin.
 */
export async function startContainerd(pauseImage: string): Promise<void> {
  await ensureBridge();
  const root = paths.containerd;
  fs.mkdirSync(path.join(root, "certs.d", REGISTRY), { recursive: true });
  fs.writeFileSync(
    path.join(root, "certs.d", REGISTRY, "hosts.toml"),
    `server = "http://${REGISTRY}"\n\n[host."http://${REGISTRY}"]\n  capabilities = ["pull", "resolve"]\n`,
  );
  const netd = path.join(root, "net.d");
  fs.mkdirSync(netd, { recursive: true });
  fs.writeFileSync(
    path.join(netd, "10-platform.conflist"),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: "platform",
      plugins: [
        { type: "bridge", bridge: BRIDGE, isGateway: true, ipMasq: false, ipam: { type: "host-local", ranges: [[{ subnet: POD_CIDR }]], dataDir: path.join(root, "ipam") } },
        { type: "loopback" },
      ],
    }),
  );
  const config = path.join(root, "config.toml");
  fs.writeFileSync(
    config,
    `version = 3
root = "${path.join(root, "root")}"
state = "${path.join(root, "state")}"

[grpc]
  address = "${CONTAINERD_SOCKET}"

[plugins."io.containerd.cri.v1.images"]
  [plugins."io.containerd.cri.v1.images".pinned_images]
    sandbox = "${pauseImage}"
  [plugins."io.containerd.cri.v1.images".registry]
    config_path = "${path.join(root, "certs.d")}"

[plugins."io.containerd.cri.v1.runtime"]
  # Root here lacks CAP_SYS_RESOURCE, so no process may lower its OOM score below containerd's own;
  # the pod sandbox's -998 would fail every pod ("failed to update /proc/self/oom_score_adj").
  restrict_oom_score_adj = true
  [plugins."io.containerd.cri.v1.runtime".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
        BinaryName = "${path.join(binDir(runc), "runc")}"
        SystemdCgroup = false
  [plugins."io.containerd.cri.v1.runtime".cni]
    bin_dirs = ["${binDir(cniPlugins)}"]
    conf_dir = "${netd}"
`,
  );
  const ctr = path.join(binDir(containerd), "ctr");
  await startDaemon(
    "containerd",
    path.join(binDir(containerd), "containerd"),
    ["--config", config],
    async () => {
      await run(ctr, ["--address", CONTAINERD_SOCKET, "version"]);
      return true;
    },
    // The shim is found on PATH.
    { env: { ...process.env, PATH: `${binDir(containerd)}:${process.env.PATH ?? ""}` } },
  );
}
