/**
 * What a scenario reads from the platform's cluster and registry, with kubectl and the registry's API:
 * the pods and what they run, the Service's endpoints, the Deployment sampled while a command runs.
 * It only observes; everything is created, changed and deleted by `pulumi`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as path from "node:path";

import { kubeBinary } from "../../platform/builds.js";
import { kubectl } from "../../platform/kubectl.js";
import { paths } from "../../platform/state.js";
import { REPO } from "./checkout.js";
import { runCommand } from "./pulumi.js";

/** The stack's Deployment and Service name (appName's default). */
export const APP = "adf-webhook-api";
/** The image's repository in the registry (imageRepository's default). */
export const REPOSITORY = "adf-webhook-api";

export async function getJson<T>(args: string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, "-o", "json"])) as T;
}

export interface PodInfo {
  uid: string;
  image: string;
  imageID: string;
  ready: boolean;
}

/** The API's pods in `namespace` that are not terminating, by UID. */
export async function pods(namespace: string): Promise<PodInfo[]> {
  type Pods = { items: { metadata: { uid: string; deletionTimestamp?: string }; spec: { containers: { image: string }[] }; status: { containerStatuses?: { imageID: string; ready: boolean }[] } }[] };
  const list = await getJson<Pods>(["get", "pods", "-n", namespace, "-l", `app.kubernetes.io/name=${APP}`]);
  return list.items
    .filter((p) => p.metadata.deletionTimestamp === undefined)
    .map((p) => ({ uid: p.metadata.uid, image: p.spec.containers[0]!.image, imageID: p.status.containerStatuses?.[0]?.imageID ?? "", ready: p.status.containerStatuses?.[0]?.ready ?? false }))
    .sort((a, b) => a.uid.localeCompare(b.uid));
}

/** The Service's ready endpoints (EndpointSlices). */
export async function readyEndpoints(namespace: string): Promise<number> {
  type Slices = { items: { endpoints?: { conditions: { ready: boolean } }[] }[] };
  const slices = await getJson<Slices>(["get", "endpointslices", "-n", namespace, "-l", `kubernetes.io/service-name=${APP}`]);
  return slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions.ready).length;
}

/** Whether the namespace exists (a destroyed stack leaves none). */
export async function namespaceExists(namespace: string): Promise<boolean> {
  return await kubectl(["get", "namespace", namespace, "--ignore-not-found", "-o", "name"]).then((out) => out.trim() !== "");
}

/**
 * Everything of the stack's labels left anywhere in the cluster: the stack labels every object it
 * creates `app.kubernetes.io/part-of=adf-webhook`.
 */
export async function leftovers(namespace: string): Promise<string[]> {
  const namespaced = namespace && (await namespaceExists(namespace)) ? await kubectl(["get", "all,configmaps,secrets,pdb,hpa", "-n", namespace, "-o", "name"]) : "";
  const labelled = await kubectl(["get", "namespaces,configmaps,secrets,deployments,services,pdb,hpa", "-A", "-l", "app.kubernetes.io/part-of=adf-webhook", "-o", "name"]);
  return [...namespaced.split("\n"), ...labelled.split("\n")].map((s) => s.trim()).filter((s) => s && !s.startsWith("configmap/kube-root-ca.crt"));
}

/** Deletes a namespace a crashed earlier run may have left, so a scenario starts on a clean cluster. */
export async function deleteNamespace(namespace: string): Promise<void> {
  await kubectl(["delete", "namespace", namespace, "--ignore-not-found", "--wait=true", "--timeout=180s"]);
}

export interface DeploymentWatch {
  /** The fewest ready pods seen. */
  minReady: number;
  /** The smallest `spec.replicas` seen. */
  minSpecReplicas: number;
  samples: number;
}

/**
 * Samples the Deployment's ready replicas and `spec.replicas` every 200 ms while `during` runs, so a
 * test asserts on what happened, not on what should have.
 */
export async function watchDeployment<T>(namespace: string, during: () => Promise<T>): Promise<DeploymentWatch & { value: T }> {
  let minReady = Infinity;
  let minSpecReplicas = Infinity;
  let samples = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const d = await getJson<{ spec: { replicas: number }; status: { readyReplicas?: number } }>(["get", "deployment", APP, "-n", namespace]).catch(() => undefined);
      if (d) {
        samples++;
        minReady = Math.min(minReady, d.status.readyReplicas ?? 0);
        minSpecReplicas = Math.min(minSpecReplicas, d.spec.replicas);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  try {
    const value = await during();
    return { minReady, minSpecReplicas, samples, value };
  } finally {
    done = true;
    await sampler;
  }
}

/** `kubectl port-forward service/<app> <local>:5002`, stopped by the returned function. */
export async function portForward(namespace: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child: ChildProcess = spawn(kubeBinary("kubectl"), ["port-forward", "-n", namespace, `service/${APP}`, "0:5002", "--address=127.0.0.1"], {
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
  const { code, output } = await runCommand(path.join(REPO, "node_modules/.bin/tsx"), [path.join(REPO, "tools/adf-emulator/index.ts"), ...args], { cwd: REPO, env: process.env });
  return { code, report: output };
}
