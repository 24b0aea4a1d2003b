/**
 * The steps of a delivery, as a user's commands would run them, against the local platform: build
 * `api/` with the platform's Docker engine and push it, render the checkout's Kubernetes objects, apply
 * them to the platform's API server, watch the rollout. See docs/local-platform.md for why the
 * Pulumi engine's part is played by the program under Pulumi's mocks plus server-side apply.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

import { DOCKER, dockerEnv } from "../../platform/docker-engine.js";
import { kubectl } from "../../platform/kubectl.js";
import { servedDigest } from "../../platform/registry.js";
import { kubeBinary } from "../../platform/builds.js";
import { paths } from "../../platform/state.js";

const exec = promisify(execFile);
export const REPO = path.resolve(import.meta.dirname, "../..");
export const NAMESPACE = "adf-webhook";
export const DEPLOYMENT = "adf-webhook-api";
export const REPOSITORY = "adf-webhook-api";

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string };
  [field: string]: unknown;
}

/** `git clone` of this repository's HEAD at another path and depth: a second machine's checkout. */
export async function cloneCheckout(depth: number): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "adf-webhook-clone-"));
  await exec("git", ["clone", "--quiet", "--no-local", "--depth", String(depth), `file://${REPO}`, dir]);
  // The program's dependencies as `npm ci` would install them: the same lockfile, so the same files.
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/** `docker build` of `<checkout>/api` on the base image's stand-in, pushed; the digest the registry serves. */
export async function buildAndPush(checkout: string, registry: string, baseImage: string, tag = "latest"): Promise<string> {
  const ref = `${registry}/${REPOSITORY}:${tag}`;
  const env = dockerEnv();
  await exec(DOCKER, ["build", "--quiet", "--network", "host", "--build-arg", `NODE_IMAGE=${baseImage}`, "-t", ref, path.join(checkout, "api")], { env, maxBuffer: 64 << 20 });
  await exec(DOCKER, ["push", ref], { env, maxBuffer: 64 << 20 });
  return await servedDigest(REPOSITORY, tag);
}

/** The objects the checkout's program declares for `values`, with the image at `digest`. */
export async function render(checkout: string, values: Record<string, string>, digest: string, secrets: Record<string, string> = {}): Promise<{ objects: KubeObject[]; imageRef: string }> {
  const request = JSON.stringify({ values, secrets: { kubeconfig: fs.readFileSync(paths.kubeconfig, "utf8"), ...secrets }, digest });
  const { stdout } = await exec(path.join(REPO, "node_modules/.bin/tsx"), [path.join(checkout, "e2e/render.ts"), request], { cwd: checkout, maxBuffer: 16 << 20 });
  return JSON.parse(stdout) as { objects: KubeObject[]; imageRef: string };
}

const key = (o: KubeObject) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

/**
 * What `pulumi up` does to the cluster, played by server-side apply: create or update what is
 * declared, then delete what the previous deploy declared and this one does not (a replaced
 * ConfigMap, an HPA turned off). Returns the objects as the API server stored them.
 */
export class Stack {
  private applied: KubeObject[] = [];

  async up(objects: KubeObject[]): Promise<void> {
    const namespaces = objects.filter((o) => o.kind === "Namespace");
    const rest = objects.filter((o) => o.kind !== "Namespace");
    if (namespaces.length > 0) await apply(namespaces);
    await waitForDefaultServiceAccount();
    await apply(rest);
    const kept = new Set(objects.map(key));
    for (const gone of this.applied.filter((o) => !kept.has(key(o))).reverse()) await deleteObject(gone);
    this.applied = objects;
  }

  async destroy(): Promise<void> {
    for (const o of [...this.applied].reverse()) await deleteObject(o);
    await kubectl(["wait", "--for=delete", `namespace/${NAMESPACE}`, "--timeout=180s"]).catch(() => undefined);
    this.applied = [];
  }
}

/** Pulumi's kubernetes provider applies server-side under a field manager of its own: so does this. */
async function apply(objects: KubeObject[]): Promise<void> {
  await kubectl(["apply", "--server-side", "--field-manager=pulumi-kubernetes", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
}

async function deleteObject(o: KubeObject): Promise<void> {
  const [group, version] = o.apiVersion.includes("/") ? o.apiVersion.split("/") : ["", o.apiVersion];
  const resource = `${o.kind.toLowerCase()}${group ? `.${version}.${group}` : ""}`;
  await kubectl(["delete", resource, o.metadata.name, ...(o.metadata.namespace ? ["-n", o.metadata.namespace] : []), "--ignore-not-found", "--wait=false"]);
}

/** A new namespace's pods are refused until its `default` ServiceAccount exists. */
async function waitForDefaultServiceAccount(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (await kubectl(["get", "serviceaccount", "default", "-n", NAMESPACE]).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, "-o", "json"])) as T;
}

export async function rolloutStatus(): Promise<void> {
  await kubectl(["rollout", "status", `deployment/${DEPLOYMENT}`, "-n", NAMESPACE, "--timeout=300s"]);
}

export interface PodInfo {
  uid: string;
  image: string;
  imageID: string;
  ready: boolean;
}

export async function pods(): Promise<PodInfo[]> {
  type Pods = { items: { metadata: { uid: string; deletionTimestamp?: string }; spec: { containers: { image: string }[] }; status: { containerStatuses?: { imageID: string; ready: boolean }[] } }[] };
  const list = await getJson<Pods>(["get", "pods", "-n", NAMESPACE, "-l", `app.kubernetes.io/name=${DEPLOYMENT}`]);
  return list.items
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .map((p) => ({ uid: p.metadata.uid, image: p.spec.containers[0]!.image, imageID: p.status.containerStatuses?.[0]?.imageID ?? "", ready: p.status.containerStatuses?.[0]?.ready ?? false }))
    .sort((a, b) => a.uid.localeCompare(b.uid));
}

/**
 * Samples the Deployment's ready replicas every 200 ms while `during` runs: the lowest count seen,
 * and the spec's lowest replica count, so a test asserts on what happened, not on what should.
 */
export async function watchDeployment(during: () => Promise<void>): Promise<{ minReady: number; minSpecReplicas: number; samples: number }> {
  let minReady = Infinity;
  let minSpecReplicas = Infinity;
  let samples = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const d = await getJson<{ spec: { replicas: number }; status: { readyReplicas?: number } }>(["get", "deployment", DEPLOYMENT, "-n", NAMESPACE]).catch(() => undefined);
      if (d) {
        samples++;
        minReady = Math.min(minReady, d.status.readyReplicas ?? 0);
        minSpecReplicas = Math.min(minSpecReplicas, d.spec.replicas);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  try {
    await during();
  } finally {
    done = true;
    await sampler;
  }
  return { minReady, minSpecReplicas, samples };
}

/** `kubectl port-forward service/<app> <local>:5002`, stopped by the returned function. */
export async function portForward(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(kubeBinary("kubectl"), ["port-forward", "-n", NAMESPACE, `service/${DEPLOYMENT}`, "0:5002", "--address=127.0.0.1"], {
    env: { ...process.env, KUBECONFIG: paths.kubeconfig },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`kubectl port-forward did not start: ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`kubectl port-forward exited ${code}: ${out}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** `npm run adf -- <url> …`: the ADF emulator's exit code and report. */
export async function adf(args: string[]): Promise<{ code: number; report: string }> {
  return await new Promise((resolve) => {
    const child = spawn(path.join(REPO, "node_modules/.bin/tsx"), [path.join(REPO, "tools/adf-emulator/index.ts"), ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let report = "";
    child.stdout.on("data", (d: Buffer) => (report += d.toString()));
    child.stderr.on("data", (d: Buffer) => (report += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, report }));
  });
}
