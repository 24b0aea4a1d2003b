import * as os from "node:os";
import * as path from "node:path";

import { canonicalStateDir } from "./state-dir.js";

/**
 * Where the platform keeps things. Builds are cached by version under the user's cache directory and
 * kept across `down`; everything a running platform writes (certificates, etcd's data, the registry's
 * blobs, Docker's data, logs, PID files, the record of what it changed on the host) is under one state
 * directory that `down` removes. ADF_PLATFORM_STATE names another one; it is checked when read.
 */
export const CACHE = path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "adf-webhook-aks", "platform");
export const STATE =
  process.env.ADF_PLATFORM_STATE !== undefined
    ? canonicalStateDir(process.env.ADF_PLATFORM_STATE)
    : canonicalStateDir(path.join(process.env.XDG_STATE_HOME ?? path.join(os.homedir(), ".local", "state"), "adf-webhook-aks", "platform"), "the default state directory");

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
  /** What `up` changed on the host, for `down` to undo (host-journal.ts). */
  hostJournal: path.join(STATE, "host-changes.json"),
};

export const DOCKER_HOST = `unix://${path.join(paths.docker, "docker.sock")}`;
