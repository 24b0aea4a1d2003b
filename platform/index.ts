/**
 * `npm run platform -- up | down | env`: a Kubernetes cluster, a registry and a Docker engine on this
 * machine, built from the package registries, for running the delivery for real (docs/local-platform.md).
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { startControllerManager } from "./controller-manager.js";
import { cniPlugins, containerd, etcd, kubeBinary, kubernetes, runc } from "./builds.js";
import { ensureBaseImage } from "./base-image.js";
import { ensureDebianPackages } from "./debian-packages.js";
import { exportLines, type Platform } from "./env-exports.js";
import { startDockerEngine } from "./docker-engine.js";
import { startEtcd } from "./etcd.js";
import { ensureBuilt } from "./go-build.js";
import { startApiServer } from "./kube-apiserver.js";
import { startKubelet } from "./kubelet.js";
import { removeBridge, startContainerd } from "./containerd.js";
import { ensurePauseImage } from "./pause-image.js";
import { ensurePulumiBackend } from "./pulumi-backend.js";
import { makePki, writeKubeconfig } from "./pki.js";
import { stopDaemon } from "./processes.js";
import { killLeftoverShims, removeContainers, unmountState } from "./teardown.js";
import { startRegistry } from "./registry.js";
import { startScheduler } from "./scheduler.js";
import { DOCKER_HOST, paths, REGISTRY, STATE } from "./state.js";

/** Started in this order, stopped in the reverse one. */
const DAEMONS = ["registry", "dockerd", "etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet"];

const log = (line: string) => process.stderr.write(`platform: ${line}\n`);

export type { Platform } from "./env-exports.js";

/** Starts whatever is not running yet; a platform already up is reused as it is. */
export async function up(): Promise<Platform> {
  if (process.getuid?.() !== 0) throw new Error("the platform runs a Docker engine and a cluster's control plane: run it as root");
  await ensureDebianPackages(log);
  for (const program of [etcd, kubernetes, containerd, runc, cniPlugins]) await ensureBuilt(program, log);
  fs.mkdirSync(STATE, { recursive: true, mode: 0o700 });
  await makePki();
  writeKubeconfig(paths.kubeconfig, "admin");
  log("starting the registry and the Docker engine ...");
  await startRegistry();
  await startDockerEngine();
  const pauseImage = await ensurePauseImage();
  const baseImage = await ensureBaseImage(log);
  log("starting etcd, the Kubernetes control plane, containerd and a kubelet ...");
  await startEtcd();
  await startApiServer();
  await startControllerManager();
  await startScheduler();
  await startContainerd(pauseImage);
  await startKubelet();
  fs.mkdirSync(paths.bin, { recursive: true });
  const kubectlLink = path.join(paths.bin, "kubectl");
  fs.rmSync(kubectlLink, { force: true });
  fs.symlinkSync(kubeBinary("kubectl"), kubectlLink);
  const platform: Platform = { kubeconfig: paths.kubeconfig, dockerHost: DOCKER_HOST, registry: REGISTRY, baseImage, bin: paths.bin, ...ensurePulumiBackend(paths.pulumiBackend, paths.pulumiPassphrase) };
  // It holds the passphrase: its owner's only.
  fs.writeFileSync(paths.env, exportLines(platform), { mode: 0o600 });
  fs.chmodSync(paths.env, 0o600);
  return platform;
}

/** Stops every part this platform started, by the PIDs it recorded, and removes the state directory. */
export async function down(): Promise<void> {
  await stopDaemon("kubelet");
  await removeContainers();
  for (const name of [...DAEMONS].reverse()) await stopDaemon(name);
  await killLeftoverShims();
  await removeBridge();
  await unmountState();
  fs.rmSync(STATE, { recursive: true, force: true });
}

async function main(command: string | undefined): Promise<void> {
  switch (command) {
    case "up":
      process.stdout.write(exportLines(await up()));
      log(`up; eval "$(npm run --silent platform -- env)" to use it, npm run platform -- down to remove it`);
      return;
    case "env":
      if (!fs.existsSync(paths.env)) throw new Error("the platform is not up: npm run platform -- up");
      process.stdout.write(fs.readFileSync(paths.env, "utf8"));
      return;
    case "down":
      await down();
      log(`down; ${STATE} removed (the builds stay cached)`);
      return;
    default:
      throw new Error("usage: npm run platform -- up | env | down");
  }
}

// Run as a command (not imported by a test).
if (import.meta.filename === process.argv[1]) {
  main(process.argv[2]).catch((error: unknown) => {
    log(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  });
}
