import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

import { kubeBinary } from "./builds.js";
import { CGROUP_ROOT } from "./cgroups.js";
import { CONTAINERD_SOCKET, removeContainerLogLinks } from "./containerd.js";
import { kubectl } from "./kubectl.js";
import { HOST, NODE_IP, PORTS } from "./network.js";
import { NODE_NAME, pki, writeKubeconfig } from "./pki.js";
import { answers200 } from "./probe.js";
import { runningPid, startDaemon, stopDaemon } from "./processes.js";
import { paths } from "./state.js";

/** Where every kubelet serves its device-plugin API; upstream fixes it (k8s.io/kubelet pkg/apis/deviceplugin/v1beta1). */
export const DEVICE_PLUGIN_SOCKET = "/var/lib/kubelet/device-plugins/kubelet.sock";

/**
 * The kubelet's configuration. It changes nothing of the host's that the platform does not record:
 * `protectKernelDefaults` (the kernel settings are the platform's to set and restore, kernel-settings.ts),
 * no iptables chains (`makeIPTablesUtilChains: false`; nothing here needs them), its volume plugins'
 * directory in the state directory (not /usr/libexec/kubernetes), and its pods' cgroups under the
 * platform's (cgroups.ts), not the host's `kubepods`.
 */
export function kubeletConfig(root: string): object {
  return {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    address: NODE_IP,
    port: PORTS.kubelet,
    readOnlyPort: 0,
    healthzBindAddress: HOST,
    healthzPort: PORTS.kubeletHealthz,
    // Client certificates of the platform's CA; any such caller may use the kubelet's API.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: pki.ca } },
    authorization: { mode: "AlwaysAllow" },
    containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
    cgroupDriver: "cgroupfs",
    cgroupRoot: `/${CGROUP_ROOT}`,
    // This machine mounts cgroup v1 controllers (a hybrid layout); Kubernetes 1.34 still runs on them.
    failCgroupV1: false,
    failSwapOn: false,
    protectKernelDefaults: true,
    makeIPTablesUtilChains: false,
    volumePluginDir: path.join(root, "volume-plugins"),
    podLogsDir: path.join(root, "pod-logs"),
    // A developer's disk may be fuller than a node's: evict only when it is really out of room.
    evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%" },
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    serializeImagePulls: false,
    resolvConf: "/etc/resolv.conf",
  };
}

/** Whether something listens on a Unix socket. */
export function socketAnswers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const connection = net.connect(socket);
    connection.on("connect", () => {
      connection.destroy();
      resolve(true);
    });
    connection.on("error", () => resolve(false));
  });
}

/**
 * A real kubelet on containerd: the API's image runs in pods under the security context the stack
 * sets (numeric non-root user, read-only root, no capabilities, seccomp RuntimeDefault), and probes,
 * logs, port-forward and graceful termination are the kubelet's own.
 */
export async function startKubelet(): Promise<void> {
  if (runningPid("kubelet") === undefined && (await socketAnswers(DEVICE_PLUGIN_SOCKET))) {
    throw new Error(`another kubelet runs on this host (something listens on ${DEVICE_PLUGIN_SOCKET}): the platform's would take its socket`);
  }
  const root = paths.kubelet;
  fs.mkdirSync(root, { recursive: true });
  const kubeconfig = path.join(root, "kubeconfig");
  writeKubeconfig(kubeconfig, "node");
  const config = path.join(root, "config.json");
  fs.writeFileSync(config, JSON.stringify(kubeletConfig(root)));
  await startDaemon(
    "kubelet",
    kubeBinary("kubelet"),
    [
      `--config=${config}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${path.join(root, "root")}`,
      `--cert-dir=${path.join(root, "pki")}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${NODE_IP}`,
      "--v=1",
    ],
    () => answers200(`http://${HOST}:${PORTS.kubeletHealthz}/healthz`),
    { timeoutMs: 120_000 },
  );
  // The node object appears once the kubelet has registered it; `kubectl wait` fails on one not there yet.
  const deadline = Date.now() + 120_000;
  while (!(await kubectl(["get", "node", NODE_NAME]).then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error(`the kubelet registered no node ${NODE_NAME} within 120 s`);
    await new Promise((r) => setTimeout(r, 500));
  }
  await kubectl(["wait", "--for=condition=Ready", `node/${NODE_NAME}`, "--timeout=120s"]);
}

/** Stops the kubelet and removes what it leaves on the host: its device-plugin socket and its links to container logs. */
export async function stopKubelet(): Promise<string> {
  const hadStarted = fs.existsSync(path.join(paths.kubelet, "config.json"));
  const stopped = await stopDaemon("kubelet");
  if (!hadStarted) return stopped;
  // Nothing answers on it once the platform's kubelet has stopped, unless it is another's.
  const socketLeft = fs.existsSync(DEVICE_PLUGIN_SOCKET) && !(await socketAnswers(DEVICE_PLUGIN_SOCKET));
  if (socketLeft) fs.rmSync(DEVICE_PLUGIN_SOCKET, { force: true });
  const links = removeContainerLogLinks(path.join(paths.kubelet, "pod-logs"));
  return `${stopped}; ${socketLeft ? `${DEVICE_PLUGIN_SOCKET} and ` : ""}${links} log links removed`;
}
