import * as fs from "node:fs";
import * as path from "node:path";

import { kubeBinary } from "./builds.js";
import { CONTAINERD_SOCKET, NODE_IP } from "./containerd.js";
import { kubectl } from "./kubectl.js";
import { NODE_NAME, pki, writeKubeconfig } from "./pki.js";
import { answers200 } from "./probe.js";
import { startDaemon } from "./processes.js";
import { HOST, paths, PORTS } from "./state.js";

/**
 * A real kubelet on containerd: the API's image runs in pods under the security context the stack
 * sets (numeric non-root user, read-only root, no capabilities, seccomp RuntimeDefault), and probes,
 * logs, port-forward and graceful termination are the kubelet's own.
 */
export async function startKubelet(): Promise<void> {
  const root = paths.kubelet;
  fs.mkdirSync(root, { recursive: true });
  const kubeconfig = path.join(root, "kubeconfig");
  writeKubeconfig(kubeconfig, "node");
  const config = path.join(root, "config.json");
  fs.writeFileSync(
    config,
    JSON.stringify({
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
      // This machine mounts cgroup v1 controllers (a hybrid layout); Kubernetes 1.34 still runs on them.
      failCgroupV1: false,
      failSwapOn: false,
      podLogsDir: path.join(root, "pod-logs"),
      // A developer's disk may be fuller than a node's: evict only when it is really out of room.
      evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%", "nodefs.inodesFree": "1%" },
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      serializeImagePulls: false,
      resolvConf: "/etc/resolv.conf",
    }),
  );
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
