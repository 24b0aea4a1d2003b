import { kubeBinary } from "./builds.js";
import { pki } from "./pki.js";
import { startDaemon } from "./processes.js";
import { HOST, PORTS } from "./network.js";
import { paths } from "./state.js";

/** kube-controller-manager: Deployments' ReplicaSets, EndpointSlices, HPAs, garbage collection, namespaces. */
export async function startControllerManager(): Promise<void> {
  await startDaemon(
    "kube-controller-manager",
    kubeBinary("kube-controller-manager"),
    [
      `--kubeconfig=${paths.kubeconfig}`,
      `--authentication-kubeconfig=${paths.kubeconfig}`,
      `--authorization-kubeconfig=${paths.kubeconfig}`,
      `--bind-address=${HOST}`,
      `--secure-port=${PORTS.controllerManager}`,
      "--leader-elect=false",
      `--service-account-private-key-file=${pki.saKey}`,
      `--root-ca-file=${pki.ca}`,
      `--cluster-signing-cert-file=${pki.ca}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      "--use-service-account-credentials=true",
      // An HPA reacts within seconds instead of 15 s, so the e2e's HPA steps stay short.
      "--horizontal-pod-autoscaler-sync-period=5s",
      "--v=1",
    ],
    () => selfSignedHealthy(PORTS.controllerManager),
  );
}

/** The controller manager and scheduler serve /healthz with a self-signed certificate of their own. */
export async function selfSignedHealthy(port: number): Promise<boolean> {
  const https = await import("node:https");
  return await new Promise((resolve) => {
    const req = https.get({ host: HOST, port, path: "/healthz", rejectUnauthorized: false, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}
