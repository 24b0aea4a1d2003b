import { kubeBinary } from "./builds.js";
import { selfSignedHealthy } from "./controller-manager.js";
import { startDaemon } from "./processes.js";
import { HOST, PORTS } from "./network.js";
import { paths } from "./state.js";

/** kube-scheduler: puts the Deployment's pods on the node, honouring its spread and anti-affinity rules. */
export async function startScheduler(): Promise<void> {
  await startDaemon(
    "kube-scheduler",
    kubeBinary("kube-scheduler"),
    [
      `--kubeconfig=${paths.kubeconfig}`,
      `--authentication-kubeconfig=${paths.kubeconfig}`,
      `--authorization-kubeconfig=${paths.kubeconfig}`,
      `--bind-address=${HOST}`,
      `--secure-port=${PORTS.scheduler}`,
      "--leader-elect=false",
      "--v=1",
    ],
    () => selfSignedHealthy(PORTS.scheduler),
  );
}
