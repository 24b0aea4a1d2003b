import * as fs from "node:fs";
import * as path from "node:path";

import { CGROUP_ROOT } from "./cgroups.js";
import { DOCKER_BRIDGE } from "./network.js";
import { run, startDaemon } from "./processes.js";
import { DOCKER_HOST, paths } from "./state.js";

/** Debian's Docker client: the first `docker` on PATH may be another build, without a daemon to match. */
export const DOCKER = "/usr/bin/docker";

/** dockerd's configuration file: its key in its root (20.10 writes /etc/docker/key.json otherwise; there is no flag for it). */
export const dockerdConfig = (root: string): object => ({ "deprecated-key-path": path.join(root, "key.json") });

/**
 * dockerd's flags. Everything it keeps is under `root`, with a configuration file of its own (not the
 * host's /etc/docker/daemon.json) and its key there (not /etc/docker/key.json). Its bridge is the
 * platform's own (host-network.ts): with `--bridge=none` dockerd deletes an existing `docker0`. No IP
 * forwarding, no iptables rules, no masquerading: it routes nothing. A build's RUN steps that need the
 * network use the host's (`--network host`), which reaches the package registries the Dockerfile's
 * `npm ci` needs. Its containers' cgroups are under the platform's (cgroups.ts).
 */
export function dockerdArgs(root: string, host: string): string[] {
  return [
    `--host=${host}`,
    `--config-file=${path.join(root, "daemon.json")}`,
    `--data-root=${path.join(root, "data")}`,
    `--exec-root=${path.join(root, "exec")}`,
    `--pidfile=${path.join(root, "dockerd.pid")}`,
    `--bridge=${DOCKER_BRIDGE.name}`,
    "--ip-forward=false",
    "--iptables=false",
    "--ip-masq=false",
    `--cgroup-parent=/${CGROUP_ROOT}/docker`,
  ];
}

/** A Docker engine of the platform's own (Debian's dockerd), on a socket in the state directory, for `docker.Image` and `docker build`. */
export async function startDockerEngine(): Promise<void> {
  const root = paths.docker;
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, "daemon.json"), JSON.stringify(dockerdConfig(root)) + "\n");
  await startDaemon(
    "dockerd",
    "/usr/sbin/dockerd",
    dockerdArgs(root, DOCKER_HOST),
    async () => {
      await run(DOCKER, ["version", "--format", "{{.Server.Version}}"], { env: dockerEnv() });
      return true;
    },
    { timeoutMs: 120_000 },
  );
}

export const dockerEnv = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST, DOCKER_BUILDKIT: "0" });
