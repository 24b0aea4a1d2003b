/**
 * `npm run e2e`: the delivery on the local platform (docs/local-platform.md), step by step as a user
 * would take it. The cluster, the registry, the Docker engine, the kubelet and the pods are real; the
 * Pulumi engine's part is played by the program under Pulumi's mocks and server-side apply, since
 * the engine's Node.js host and its docker and kubernetes providers cannot be built here.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { NODE_IP } from "../platform/containerd.js";
import { up, type Platform } from "../platform/index.js";
import { kubectl } from "../platform/kubectl.js";
import { adf, buildAndPush, cloneCheckout, DEPLOYMENT, getJson, NAMESPACE, pods, portForward, REPO, render, rolloutStatus, Stack, watchDeployment, type KubeObject } from "./testing/delivery.js";

/** Where the emulator's callback receiver listens: the node's address, which the pods reach. */
const RECEIVER = `${NODE_IP}:18099`;

describe("the delivery, for real, on the local platform", function () {
  this.timeout(900_000);
  let platform: Platform;
  let config: Record<string, string>;
  const stack = new Stack();
  const clones: string[] = [];
  let digest: string;
  let first: KubeObject[];

  before(async () => {
    platform = await up();
    config = { target: "kubeconfig", registryServer: platform.registry, baseImage: platform.baseImage, callbackTestReceiver: `http://${RECEIVER}` };
    await stack.destroy();
  });
  after(async () => {
    await stack.destroy();
    for (const dir of clones) fs.rmSync(dir, { recursive: true, force: true });
  });

  const deployment = (objects: KubeObject[]) => objects.find((o) => o.kind === "Deployment") as KubeObject & { spec: { template: { spec: { containers: { image: string }[] } } } };

  it("first deploy: builds api/, pushes it, and runs exactly the digest the registry serves", async () => {
    digest = await buildAndPush(REPO, platform.registry, platform.baseImage);
    const rendered = await render(REPO, config, digest);
    first = rendered.objects;
    assert.equal(rendered.imageRef, `${platform.registry}/${DEPLOYMENT}@${digest}`);
    await stack.up(first);
    await rolloutStatus();
    const running = await pods();
    assert.equal(running.length, 2);
    for (const pod of running) {
      assert.equal(pod.image, rendered.imageRef, "the pod spec names the image by digest");
      assert.ok(pod.imageID.endsWith(digest), `the kubelet runs ${digest}: ${pod.imageID}`);
      assert.ok(pod.ready);
    }
    type Slices = { items: { endpoints?: { conditions: { ready: boolean } }[] }[] };
    const slices = await getJson<Slices>(["get", "endpointslices", "-n", NAMESPACE, "-l", `kubernetes.io/service-name=${DEPLOYMENT}`]);
    assert.equal(slices.items.flatMap((s) => s.endpoints ?? []).filter((e) => e.conditions.ready).length, 2, "the Service has both pods as ready endpoints");
  });

  it("the pods run as the restricted Pod Security level requires, which the API server enforces", async () => {
    const ns = await getJson<{ metadata: { labels: Record<string, string> } }>(["get", "namespace", NAMESPACE]);
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    // A pod that breaks the level is refused by the API server's admission, not merely flagged.
    const privileged = { apiVersion: "v1", kind: "Pod", metadata: { name: "root-probe", namespace: NAMESPACE }, spec: { containers: [{ name: "c", image: deployment(first).spec.template.spec.containers[0]!.image }] } };
    await assert.rejects(kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(privileged)), /violates PodSecurity "restricted/);
  });

  it("ADF's Web and Webhook activities, success and failure, against the deployed API through kubectl port-forward", async () => {
    const forward = await portForward();
    try {
      const web = await adf([`${forward.url}/helloworld`, "--web", "--method", "GET"]);
      assert.equal(web.code, 0, web.report);
      assert.match(web.report, /Hello World/);
      const webFail = await adf([`${forward.url}/simulate`, "--web", "--body", '{"fail":true,"durationMs":10}']);
      assert.notEqual(webFail.code, 0, webFail.report);
      assert.match(webFail.report, /Failed/);
      const receiver = ["--receiver-listen", RECEIVER, "--receiver-host", RECEIVER, "--report-status-on-callback", "--timeout", "00:01:00"];
      const hook = await adf([`${forward.url}/simulate`, "--body", '{"durationMs":200}', ...receiver]);
      assert.equal(hook.code, 0, hook.report);
      assert.match(hook.report, /Succeeded/);
      const hookFail = await adf([`${forward.url}/simulate`, "--body", '{"durationMs":200,"fail":true}', ...receiver]);
      assert.notEqual(hookFail.code, 0, hookFail.report);
      assert.match(hookFail.report, /Failed/);
    } finally {
      await forward.stop();
    }
  });

  it("a second deployer: a clone at another path and depth declares the same objects and rolls no pod", async () => {
    const clone = await cloneCheckout(1);
    clones.push(clone);
    const before = await pods();
    const cloneDigest = await buildAndPush(clone, platform.registry, platform.baseImage);
    assert.equal(cloneDigest, digest, "the same api/ builds the same image");
    const rendered = await render(clone, config, cloneDigest);
    assert.deepEqual(rendered.objects, first, "every object, every field, the same");
    const generation = (await getJson<{ metadata: { generation: number } }>(["get", "deployment", DEPLOYMENT, "-n", NAMESPACE])).metadata.generation;
    await stack.up(rendered.objects);
    assert.equal((await getJson<{ metadata: { generation: number } }>(["get", "deployment", DEPLOYMENT, "-n", NAMESPACE])).metadata.generation, generation);
    assert.deepEqual((await pods()).map((p) => p.uid), before.map((p) => p.uid), "the same pods");
  });

  it("a README-only change builds the same image and declares the same objects", async () => {
    const clone = clones[0]!;
    fs.appendFileSync(path.join(clone, "README.md"), "\nA line that changes nothing the delivery reads.\n");
    const same = await buildAndPush(clone, platform.registry, platform.baseImage);
    assert.equal(same, digest);
    assert.deepEqual((await render(clone, config, same)).objects, first);
  });

  it("a change in api/src: a new image and digest, and a rolling update that never has fewer ready pods than replicas", async () => {
    const clone = clones[0]!;
    const job = path.join(clone, "api/src/jobs/helloworld.ts");
    fs.appendFileSync(job, "\n// A change to the API's source: a new image.\n");
    const changed = await buildAndPush(clone, platform.registry, platform.baseImage);
    assert.notEqual(changed, digest);
    const rendered = await render(clone, config, changed);
    const before = await pods();
    const watched = await watchDeployment(async () => {
      await stack.up(rendered.objects);
      await rolloutStatus();
    });
    assert.ok(watched.samples > 5, `sampled ${watched.samples} times`);
    assert.equal(watched.minReady, 2, "never fewer ready pods than replicas");
    const after = await pods();
    assert.equal(after.length, 2);
    for (const pod of after) assert.ok(pod.imageID.endsWith(changed));
    assert.equal(after.filter((p) => before.some((b) => b.uid === p.uid)).length, 0, "every pod replaced");
    digest = changed;
    first = rendered.objects;
  });

  it("a stack-only change (logLevel) builds nothing and keeps the digest; the new settings roll the pods", async () => {
    const rendered = await render(clones[0]!, { ...config, logLevel: "debug" }, digest);
    assert.equal(rendered.imageRef, `${platform.registry}/${DEPLOYMENT}@${digest}`);
    const configMaps = (objects: KubeObject[]) => objects.filter((o) => o.kind === "ConfigMap").map((o) => o.metadata.name);
    assert.notDeepEqual(configMaps(rendered.objects), configMaps(first), "the settings are a new ConfigMap");
    const watched = await watchDeployment(async () => {
      await stack.up(rendered.objects);
      await rolloutStatus();
    });
    assert.equal(watched.minReady, 2);
    for (const pod of await pods()) assert.ok(pod.imageID.endsWith(digest), "the same image");
    const left = await getJson<{ items: KubeObject[] }>(["get", "configmaps", "-n", NAMESPACE]);
    assert.deepEqual(left.items.map((c) => c.metadata.name).filter((n) => n.startsWith("adf-webhook-settings")), configMaps(rendered.objects), "the old ConfigMap is deleted");
    first = rendered.objects;
    config = { ...config, logLevel: "debug" };
  });

  it("the HPA off, on, off under server-side apply: the replica count never drops to one", async () => {
    const watched = await watchDeployment(async () => {
      for (const hpa of ["true", "false"]) {
        await stack.up((await render(clones[0]!, { ...config, hpaEnabled: hpa }, digest)).objects);
        await rolloutStatus();
        await new Promise((r) => setTimeout(r, 7000)); // an HPA sync period or more
      }
    });
    assert.ok(watched.minSpecReplicas >= 2, `spec.replicas went down to ${watched.minSpecReplicas}`);
  });

  it("an image that fails to build fails with the build's error and leaves the running Deployment untouched", async () => {
    const clone = clones[0]!;
    const before = await pods();
    fs.writeFileSync(path.join(clone, "api/src/jobs/broken.ts"), "export const broken: number = 'not a number';\n");
    await assert.rejects(buildAndPush(clone, platform.registry, platform.baseImage, "broken"), /TS2322|not assignable/);
    fs.rmSync(path.join(clone, "api/src/jobs/broken.ts"));
    assert.deepEqual((await pods()).map((p) => p.uid), before.map((p) => p.uid));
  });

  it("an invalid setting stops before anything is built or applied, naming the key", async () => {
    await assert.rejects(render(REPO, { ...config, replicas: "many" }, digest), /replicas/);
  });

  it("an unreachable registry fails with a message that names it", async () => {
    await assert.rejects(buildAndPush(REPO, "127.0.0.1:1", platform.baseImage), /127\.0\.0\.1:1/);
  });

  it("teardown leaves nothing of the stack in the cluster, and a deploy works again after it", async () => {
    await stack.destroy();
    await assert.rejects(kubectl(["get", "namespace", NAMESPACE]), /NotFound/);
    await stack.up(first);
    await rolloutStatus();
    assert.equal((await pods()).length, 2);
  });
});
