/**
 * First deploy, from an empty backend: `pulumi stack init`, `pulumi config set`, `pulumi preview`,
 * `pulumi up`, on the local platform (docs/local-platform.md). Then Data Factory's activities against
 * what was deployed, and the mocked tests' predictions set against what the engine did.
 */
import * as assert from "node:assert/strict";

import { kubectl } from "../platform/kubectl.js";
import { servedDigest } from "../platform/registry.js";
import { adf, getJson, pods, portForward, readyEndpoints, REPOSITORY } from "./testing/cluster.js";
import { allCreated, compareDeployed, compareOperations, comparePreviewUnknowns, digestOf, predict, previewOperations } from "./testing/predictions.js";
import type { PreviewDigest, UpdateResult } from "./testing/pulumi.js";
import { RECEIVER, Scenario } from "./testing/scenario.js";

describe("first deploy, from an empty backend", function () {
  const scenario = new Scenario("e2e-first-deploy");
  let preview: PreviewDigest;
  let deployed: UpdateResult;
  let outputs: Record<string, unknown>;

  before(async () => {
    const deployer = await scenario.start();
    preview = await deployer.preview();
    deployed = await deployer.up();
    outputs = await deployer.outputs();
  });
  after(() => scenario.end());

  it("pulumi preview creates every resource; the mocks predict the same ones, and what the preview cannot know yet", async () => {
    const mocked = await predict(scenario.values, scenario.secrets, { preview: true });
    assert.deepEqual(compareOperations(allCreated(mocked), previewOperations(preview)), []);
    assert.deepEqual(comparePreviewUnknowns(mocked, preview), []);
    // The stack itself on top of the program's (docker's default provider is not counted).
    assert.deepEqual(preview.changeSummary, { create: mocked.resources.length + 1 });
  });

  it("pulumi up builds api/ and pushes it: the pods run exactly the digest the registry serves", async () => {
    assert.deepEqual(Object.keys(deployed.changes), ["create"]);
    const digest = digestOf(outputs.imageRef);
    assert.equal(await servedDigest(REPOSITORY, scenario.name), digest, "the tag the stack pushed is served at the stack's digest");
    const running = await pods(scenario.name);
    assert.equal(running.length, 2);
    for (const pod of running) {
      assert.equal(pod.image, outputs.imageRef, "the pod spec names the image by digest");
      assert.ok(pod.imageID.endsWith(digest), `the kubelet runs ${digest}: ${pod.imageID}`);
    }
  });

  it("the rollout completed: both pods ready, and the Service has both as ready endpoints", async () => {
    assert.ok((await pods(scenario.name)).every((p) => p.ready));
    assert.equal(await readyEndpoints(scenario.name), 2);
  });

  it("the pods run as the restricted Pod Security level requires, which the API server enforces", async () => {
    const ns = await getJson<{ metadata: { labels: Record<string, string> } }>(["get", "namespace", scenario.name]);
    assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    // A pod that breaks the level is refused by the API server's admission, not merely flagged.
    const privileged = { apiVersion: "v1", kind: "Pod", metadata: { name: "root-probe", namespace: scenario.name }, spec: { containers: [{ name: "c", image: String(outputs.imageRef) }] } };
    await assert.rejects(kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(privileged)), /violates PodSecurity "restricted/);
  });

  it("Data Factory's Web and Webhook activities, succeeding and failing, against the deployed API (kubectl port-forward)", async () => {
    const forward = await portForward(scenario.name);
    try {
      const web = await adf([`${forward.url}/helloworld`, "--web", "--method", "GET"]);
      assert.equal(web.code, 0, web.report);
      assert.match(web.report, /Hello World/);
      const webFail = await adf([`${forward.url}/simulate`, "--web", "--body", '{"fail":true,"durationMs":10}']);
      assert.notEqual(webFail.code, 0, webFail.report);
      assert.match(webFail.report, /Failed/);
      // The callback crosses from the pod back to the emulator's receiver on the node's address.
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

  it("the mocks agree with the engine's state: the resources, their names, the secret inputs, the outputs", async () => {
    const mocked = await predict(scenario.values, scenario.secrets, { digest: digestOf(outputs.imageRef) });
    assert.deepEqual(compareDeployed(mocked, await scenario.deployer.export(), outputs), []);
  });
});
