import { kubeBinary } from "./builds";
import { selfSignedHealthy } from "./controller-manager";
import { startDaemon } from "./processes";
import { HOST, paths, PORTS } from "./state";

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
