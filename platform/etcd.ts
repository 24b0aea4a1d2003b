import { etcdBinary } from "./builds.js";
import { answers200 } from "./probe.js";
import { startDaemon } from "./processes.js";
import { HOST, PORTS } from "./network.js";
import { paths } from "./state.js";

/** etcd, one member on loopback, plain HTTP: only the API server on this machine talks to it. */
export async function startEtcd(): Promise<void> {
  const client = `http://${HOST}:${PORTS.etcdClient}`;
  const peer = `http://${HOST}:${PORTS.etcdPeer}`;
  await startDaemon(
    "etcd",
    etcdBinary(),
    [
      "--name=platform",
      `--data-dir=${paths.etcdData}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=platform=${peer}`,
      // The platform is disposable: fsync-light and small, so it starts fast on a busy 2-core machine.
      "--unsafe-no-fsync",
      "--quota-backend-bytes=536870912",
      "--log-level=warn",
    ],
    () => answers200(`${client}/health`),
  );
}

export const ETCD_URL = `http://${HOST}:${PORTS.etcdClient}`;
