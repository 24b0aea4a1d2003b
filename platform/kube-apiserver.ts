import { kubeBinary } from "./builds.js";
import { ETCD_URL } from "./etcd.js";
import { pki } from "./pki.js";
import { answers200 } from "./probe.js";
import { startDaemon } from "./processes.js";
import { HOST, PORTS, SERVICE_CIDR } from "./network.js";
import { paths } from "./state.js";

/**
 * kube-apiserver with its default admission plugins (PodSecurity among them, so a namespace's
 * `pod-security.kubernetes.io/enforce` label is enforced as on AKS), Node and RBAC authorization.
 */
export async function startApiServer(): Promise<void> {
  await startDaemon(
    "kube-apiserver",
    kubeBinary("kube-apiserver"),
    [
      `--etcd-servers=${ETCD_URL}`,
      `--bind-address=${HOST}`,
      `--advertise-address=${HOST}`,
      `--secure-port=${PORTS.apiServer}`,
      // The built-in `kubernetes` Service would point at loopback, which no pod can use; nothing here needs it.
      "--endpoint-reconciler-type=none",
      `--tls-cert-file=${pki.apiserverCert}`,
      `--tls-private-key-file=${pki.apiserverKey}`,
      `--client-ca-file=${pki.ca}`,
      // The node's name resolves nowhere; its address is the one the kubelet reports.
      "--kubelet-preferred-address-types=InternalIP",
      `--kubelet-client-certificate=${pki.kubeletClientCert}`,
      `--kubelet-client-key=${pki.kubeletClientKey}`,
      `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--authorization-mode=Node,RBAC",
      "--allow-privileged=false",
      "--profiling=false",
      "--v=1",
    ],
    () => answers200(`https://${HOST}:${PORTS.apiServer}/readyz`, { ca: pki.ca, cert: `${paths.pki}/admin.crt`, key: `${paths.pki}/admin.key` }),
    { timeoutMs: 120_000 },
  );
}
