import * as os from "node:os";
import * as path from "node:path";

/**
 * Where the platform keeps things. Builds are cached by version under the user's cache directory and
 * kept across `down`; everything a running platform writes (certificates, etcd's data, the registry's
 * blobs, Docker's data, logs, PID files) is under one state directory that `down` removes.
 */
export const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "adf-webhook-aks", "platform");
export const STATE = process.env.ADF_PLATFORM_STATE ?? path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), ".local", "state"), "adf-webhook-aks", "platform");

/** Loopback only: nothing the platform serves is reachable from another machine. */
export const HOST = "127.0.0.1";
export const PORTS = {
  etcdClient: 23790,
  etcdPeer: 23800,
  apiServer: 16443,
  controllerManager: 20257,
  scheduler: 20259,
  kubelet: 20250,
  kubeletHealthz: 20248,
  registry: 15000,
} as const;

export const paths = {
  pki: path.join(STATE, "pki"),
  logs: path.join(STATE, "logs"),
  pids: path.join(STATE, "pids"),
  etcdData: path.join(STATE, "etcd"),
  registry: path.join(STATE, "registry"),
  docker: path.join(STATE, "docker"),
  containerd: path.join(STATE, "containerd"),
  kubelet: path.join(STATE, "kubelet"),
  kubeconfig: path.join(STATE, "kubeconfig"),
  bin: path.join(STATE, "bin"),
  env: path.join(STATE, "env.sh"),
  pulumiBackend: path.join(STATE, "pulumi-backend"),
  pulumiPassphrase: path.join(STATE, "pulumi-passphrase"),
};

export const DOCKER_HOST = `unix://${path.join(paths.docker, "docker.sock")}`;
export const REGISTRY = `${HOST}:${PORTS.registry}`;
