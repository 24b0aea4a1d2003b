/**
 * `npm run platform -- up | down | env`: a Kubernetes cluster, a registry and a Docker engine on this
 * machine, built from the package registries, for running the delivery for real (docs/local-platform.md).
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { ensureBaseImage } from "./base-image.js";
import { cniPlugins, containerd, etcd, kubeBinary, kubernetes, runc } from "./builds.js";
import { cgroupHierarchies, makeCgroupRoot, removeCgroupRoot } from "./cgroups.js";
import { startContainerd, stopContainerd } from "./containerd.js";
import { startControllerManager } from "./controller-manager.js";
import { ensureDebianPackages } from "./debian-packages.js";
import { startDockerEngine } from "./docker-engine.js";
import { exportLines, type Platform } from "./env-exports.js";
import { startEtcd } from "./etcd.js";
import { ensureBuilt } from "./go-build.js";
import { ensureBridge, removeBridge } from "./host-network.js";
import { recordHostPaths, removeHostPathsMade } from "./host-paths.js";
import { withoutInterrupts } from "./interrupts.js";
import { applyKernelSettings, restoreKernelSettings } from "./kernel-settings.js";
import { startApiServer } from "./kube-apiserver.js";
import { startKubelet, stopKubelet } from "./kubelet.js";
import { hostMounts, removeTree, unmountUnder } from "./mounts.js";
import { DOCKER_BRIDGE, POD_BRIDGE, REGISTRY } from "./network.js";
import { describe, startParts, stopParts, type Failure, type Part } from "./parts.js";
import { ensurePauseImage } from "./pause-image.js";
import { makePki, writeKubeconfig } from "./pki.js";
import { stopDaemon } from "./processes.js";
import { ensurePulumiBackend } from "./pulumi-backend.js";
import { startRegistry } from "./registry.js";
import { startScheduler } from "./scheduler.js";
import { claimStateDir, stateDirToRemove } from "./state-dir.js";
import { CACHE, DOCKER_HOST, paths, STATE } from "./state.js";

export type { Platform } from "./env-exports.js";

const log = (line: string) => process.stderr.write(`platform: ${line}\n`);

/** Set by the parts as `up` goes; read once the last part has started. */
let pauseImage = "";
let baseImage = "";

const daemon = (name: string, start: () => Promise<void>): Part => ({ name, start, stop: () => stopDaemon(name) });
const noted = (notes: string[], what: string) => (notes.length > 0 ? `${what}: ${notes.join("; ")}` : undefined);

/** The platform, part by part: `up` starts them in this order, `down` (and a failed `up`) stops them in the reverse one. */
const PARTS: readonly Part[] = [
  {
    name: "state directory",
    start: async () => {
      await makePki();
      writeKubeconfig(paths.kubeconfig, "admin");
    },
    // Last of all: what the daemons mounted under it (pods' volumes and network namespaces).
    stop: async () => {
      const left = unmountUnder(STATE);
      if (left.length > 0) throw new Error(`still mounted: ${left.join(", ")}`);
    },
  },
  {
    name: "host paths",
    start: async () => recordHostPaths(paths.hostJournal),
    stop: async () => noted(removeHostPathsMade(paths.hostJournal), "host paths"),
  },
  {
    name: "kernel settings",
    start: async () => {
      const changed = applyKernelSettings(paths.hostJournal);
      if (changed.length > 0) log(`kernel settings for the kubelet (restored at down): ${changed.join(", ")}`);
    },
    stop: async () => noted(restoreKernelSettings(paths.hostJournal), "kernel settings"),
  },
  {
    name: "cgroups",
    start: async () => makeCgroupRoot(cgroupHierarchies(hostMounts.table())),
    stop: async () => removeCgroupRoot(cgroupHierarchies(hostMounts.table())),
  },
  { name: `bridge ${DOCKER_BRIDGE.name}`, start: () => ensureBridge(DOCKER_BRIDGE, paths.hostJournal), stop: () => removeBridge(DOCKER_BRIDGE, paths.hostJournal) },
  daemon("registry", startRegistry),
  daemon("dockerd", startDockerEngine),
  {
    name: "images",
    start: async () => {
      pauseImage = await ensurePauseImage();
      baseImage = await ensureBaseImage(log);
    },
    // They live in the registry's and Docker's data, under the state directory.
    stop: async () => undefined,
  },
  daemon("etcd", startEtcd),
  daemon("kube-apiserver", startApiServer),
  daemon("kube-controller-manager", startControllerManager),
  daemon("kube-scheduler", startScheduler),
  { name: `bridge ${POD_BRIDGE.name}`, start: () => ensureBridge(POD_BRIDGE, paths.hostJournal), stop: () => removeBridge(POD_BRIDGE, paths.hostJournal) },
  { name: "containerd", start: () => startContainerd(pauseImage), stop: stopContainerd },
  { name: "kubelet", start: startKubelet, stop: stopKubelet },
];

/** Starts whatever is not running yet; a platform already up is reused as it is. A failed `up` undoes all it did. */
export async function up(): Promise<Platform> {
  if (process.getuid?.() !== 0) throw new Error("the platform runs a Docker engine and a cluster's control plane: run it as root");
  await ensureDebianPackages(log);
  for (const program of [etcd, kubernetes, containerd, runc, cniPlugins]) await ensureBuilt(program, log);
  const madeStateDir = claimStateDir(STATE);
  log("starting the platform (its parts: " + PARTS.map((p) => p.name).join(", ") + ") ...");
  // A failed `up` undoes what it started; one that joined a running platform leaves it (and its stacks) be.
  await startParts(PARTS, log, madeStateDir ? () => withoutInterrupts(teardown) : "keep");
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

/**
 * Stops every part this platform started and undoes what it changed on the host, each step even when
 * an earlier one failed, then removes the state directory; throws with what it could not undo (the
 * state directory is then kept, with its record, for another `down`).
 */
export async function down(): Promise<void> {
  if (!stateDirToRemove(STATE)) {
    log(`no platform state at ${STATE}: nothing to stop`);
    return;
  }
  log(`stopping the platform at ${STATE} ...`);
  const failures = await withoutInterrupts(teardown);
  if (failures.length > 0) throw new Error(`down could not undo:\n${describe(failures)}\n${STATE} is kept, with its record of what is left, for another down`);
}

async function teardown(): Promise<Failure[]> {
  const failures = await stopParts(PARTS, log);
  if (failures.length > 0) return failures;
  try {
    removeTree(STATE);
  } catch (error) {
    failures.push({ part: "state directory", error: (error as Error).message });
  }
  return failures;
}

export async function main(command: string | undefined): Promise<void> {
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
      log(`down; nothing of the platform is left (the builds stay cached in ${CACHE})`);
      return;
    default:
      throw new Error("usage: npm run platform -- up | env | down");
  }
}
