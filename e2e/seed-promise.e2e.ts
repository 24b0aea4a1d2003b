/**
 * The project's promise: a change outside api/ builds nothing and rolls no image; a change in api/src
 * is one new image, rolled out without ever having fewer ready pods than replicas. Each step is a
 * user's: edit the checkout or `pulumi config set`, then `pulumi preview` / `pulumi up`.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { servedDigest } from "../platform/registry.js";
import { pods, REPOSITORY, watchDeployment } from "./testing/cluster.js";
import { compareOperations, digestOf, predict, predictedOperations, previewOperations, type Operation } from "./testing/predictions.js";
import { Scenario } from "./testing/scenario.js";

const IMAGE = "docker:index/image:Image::api-image";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment::adf-webhook-deployment";

/** The operations a preview or up lists, other than leaving a resource as it is. */
const changed = (operations: Map<string, Operation>) => Object.fromEntries([...operations].filter(([, op]) => op !== "same"));

describe("the seed's promise: what a change rebuilds and what it rolls", function () {
  const scenario = new Scenario("e2e-seed-promise");

  before(async () => {
    await scenario.deployed();
  });
  after(() => scenario.end());

  const imageRef = async () => String((await scenario.deployer.outputs()).imageRef);

  it("a README-only change: pulumi preview shows no change at all", async () => {
    fs.appendFileSync(path.join(scenario.deployer.checkout, "README.md"), "\nA line that changes nothing the delivery reads.\n");
    const preview = await scenario.deployer.preview(["--expect-no-changes"]);
    assert.deepEqual(Object.keys(preview.changeSummary ?? {}), ["same"]);
  });

  it("a change in api/src: one image update, a new digest, and a rolling update never below the replica count", async () => {
    const before = { ref: await imageRef(), pods: await pods(scenario.name) };
    fs.appendFileSync(path.join(scenario.deployer.checkout, "api/src/jobs/helloworld.ts"), "\n// A change to the API's source: a new image.\n");
    const watched = await watchDeployment(scenario.name, () => scenario.deployer.up());
    const result = watched.value;
    // The mocks see the new digest in the Deployment; the changed build context only through the provider.
    const mockedBefore = await predict(scenario.values, scenario.secrets, { digest: digestOf(before.ref) });
    const mockedAfter = await predict(scenario.values, scenario.secrets, { digest: `sha256:${"0".repeat(64)}` });
    assert.deepEqual(compareOperations(predictedOperations(mockedBefore, mockedAfter, { buildContextChanged: true }), previewOperations(result.preview!)), []);
    assert.deepEqual(changed(previewOperations(result.preview!)), { [IMAGE]: "update", [DEPLOYMENT]: "update" });
    assert.deepEqual(Object.keys(result.changes).sort(), ["same", "update"]);
    assert.equal(result.changes.update, 2, "the image and the Deployment");

    const after = await imageRef();
    assert.notEqual(digestOf(after), digestOf(before.ref), "a new digest");
    assert.equal(await servedDigest(REPOSITORY, scenario.name), digestOf(after));
    assert.ok(watched.samples > 5, `sampled ${watched.samples} times`);
    assert.equal(watched.minReady, 2, "never fewer ready pods than replicas");
    const running = await pods(scenario.name);
    assert.equal(running.length, 2);
    for (const pod of running) assert.ok(pod.ready && pod.imageID.endsWith(digestOf(after)), `${pod.uid} runs ${pod.imageID}`);
    assert.ok(running.every((p) => !before.pods.some((b) => b.uid === p.uid)), "every pod replaced");
  });

  it("a stack-only change (logLevel): no image update and the same digest; the new settings roll the pods", async () => {
    const before = await imageRef();
    const mockedBefore = await predict(scenario.values, scenario.secrets, { digest: digestOf(before) });
    await scenario.configure({ logLevel: scenario.values.logLevel === "debug" ? "info" : "debug" });
    const mockedAfter = await predict(scenario.values, scenario.secrets, { digest: digestOf(before) });
    const watched = await watchDeployment(scenario.name, () => scenario.deployer.up());
    const preview = previewOperations(watched.value.preview!);
    assert.deepEqual(compareOperations(predictedOperations(mockedBefore, mockedAfter), preview), []);
    assert.equal(preview.get(IMAGE), undefined, "the image is not touched");
    assert.deepEqual(changed(preview), { "kubernetes:core/v1:ConfigMap::adf-webhook-settings": "replace", [DEPLOYMENT]: "update" });
    assert.equal(await imageRef(), before, "the same digest");
    assert.equal(watched.minReady, 2, "never fewer ready pods than replicas");
    for (const pod of await pods(scenario.name)) assert.ok(pod.imageID.endsWith(digestOf(before)), "the same image");
  });
});
