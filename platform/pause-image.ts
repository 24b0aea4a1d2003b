import * as fs from "node:fs";
import * as path from "node:path";

import { DOCKER, dockerEnv } from "./docker-engine.js";
import { makeTempDir, removeTempDir } from "./interrupts.js";
import { run } from "./processes.js";
import { REGISTRY } from "./network.js";

/** What a pod's sandbox container runs: nothing, until it is told to stop (as Kubernetes' own pause does). */
const PAUSE_C = `#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, NULL, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, stop);
  signal(SIGTERM, stop);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
`;

/**
 * The pod sandbox image, which containerd would otherwise pull from registry.k8s.io: a static binary
 * that waits for a signal, built here with gcc, on `scratch`, pushed to the local registry.
 */
export async function ensurePauseImage(): Promise<string> {
  const ref = `${REGISTRY}/platform/pause:1`;
  const env = dockerEnv();
  const present = await run(DOCKER, ["image", "inspect", ref], { env }).then(() => true, () => false);
  if (!present) {
    const dir = makeTempDir("pause-");
    try {
      fs.writeFileSync(path.join(dir, "pause.c"), `#include <sys/wait.h>\n${PAUSE_C}`);
      await run("gcc", ["-Os", "-static", "-o", path.join(dir, "pause"), path.join(dir, "pause.c")]);
      await run("strip", [path.join(dir, "pause")]);
      fs.writeFileSync(path.join(dir, "Dockerfile"), 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n');
      await run(DOCKER, ["build", "-q", "-t", ref, dir], { env });
    } finally {
      removeTempDir(dir);
    }
  }
  await run(DOCKER, ["push", ref], { env });
  return ref;
}
