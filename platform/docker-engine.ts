import * as fs from "node:fs";
import * as path from "node:path";

import { run, startDaemon } from "./processes.js";
import { DOCKER_HOST, paths } from "./state.js";

/** Debian's Docker client: the first `docker` on PATH may be another build, without a daemon to match. */
export const DOCKER = "/usr/bin/docker";

/**
 * A Docker engine of the platform's own (Debian's dockerd), on a socket in the state directory, so
 * `docker.Image` and `docker build` have an engine that speaks the Docker Engine API. No bridge and no
 * iptables rules: it touches no network of the machine's. A build's RUN steps use the host's network
 * (`--network host`), which reaches the package registries the Dockerfile's `npm ci` needs.
 */
export async function startDockerEngine(): Promise<void> {
  const root = paths.docker;
  fs.mkdirSync(root, { recursive: true });
  await startDaemon(
    "dockerd",
    "/usr/sbin/dockerd",
    [
      `--host=${DOCKER_HOST}`,
      `--data-root=${path.join(root, "data")}`,
      `--exec-root=${path.join(root, "exec")}`,
      `--pidfile=${path.join(root, "dockerd.pid")}`,
      "--bridge=none",
      "--iptables=false",
      "--ip-masq=false",
      "--userland-proxy=false",
    ],
    async () => {
      await run(DOCKER, ["version", "--format", "{{.Server.Version}}"], { env: dockerEnv() });
      return true;
    },
    { timeoutMs: 120_000 },
  );
}

export const dockerEnv = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST, DOCKER_BUILDKIT: "0" });
