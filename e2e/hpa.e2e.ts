/**
 * The HPA turned on, scaled, kept through another `pulumi up`, and turned off, under the kubernetes
 * provider's server-side apply: the Deployment's replica count never drops to one on the way
 * (replicaOwnership in stack/workload/rollout.ts says why it could).
 */
import * as assert from "node:assert/strict";

import { getJson, watchDeployment, APP } from "./testing/cluster.js";
import { compareOperations, digestOf, predict, predictedOperations, previewOperations } from "./testing/predictions.js";
import { Scenario } from "./testing/scenario.js";

describe("the HPA off, on, scaled, off: the replica count never drops to one", function () {
  const scenario = new Scenario("e2e-hpa");

  before(async () => {
    await scenario.deployed();
  });
  after(() => scenario.end());

  const specReplicas = async () => (await getJson<{ spec: { replicas: number } }>(["get", "deployment", APP, "-n", scenario.name])).spec.replicas;

  /** `pulumi config set`, then `pulumi up`; the mocks' predicted operations must be the engine's. */
  async function change(values: Record<string, string>): Promise<void> {
    const digest = digestOf((await scenario.deployer.outputs()).imageRef);
    const before = await predict(scenario.values, scenario.secrets, { digest });
    await scenario.configure(values);
    const after = await predict(scenario.values, scenario.secrets, { digest });
    const result = await scenario.deployer.up();
    assert.deepEqual(compareOperations(predictedOperations(before, after), previewOperations(result.preview!)), [], JSON.stringify(values));
  }

  async function waitForReplicas(count: number): Promise<void> {
    for (let i = 0; i < 120 && (await specReplicas()) !== count; i++) await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await specReplicas(), count);
  }

  it("on, scaled by the HPA to its new minimum, kept through another up, then off: never fewer than two", async () => {
    const watched = await watchDeployment(scenario.name, async () => {
      await change({ hpaEnabled: "true" });
      assert.equal(await specReplicas(), 2);
      // The HPA (kube-controller-manager) raises the count to its minimum; the stack must not undo it.
      await change({ hpaMinReplicas: "3" });
      await waitForReplicas(3);
      await change({ logLevel: "debug" });
      assert.equal(await specReplicas(), 3, "an up with the HPA on keeps the HPA's count");
      // Off: the stack's own count again, taken back from the HPA's field manager. The engine deletes the
      // HPA after it updates the Deployment, so an HPA sync in between can raise the count once more; the
      // guide's step for that is `pulumi up --refresh` (docs/deploy.md, "The HPA and the replica count").
      await change({ hpaEnabled: "false" });
      if ((await specReplicas()) !== 2) await scenario.deployer.up(["--refresh"]);
      await waitForReplicas(2);
    });
    assert.ok(watched.minSpecReplicas >= 2, `spec.replicas went down to ${watched.minSpecReplicas}`);
    assert.ok(watched.minReady >= 2, `ready pods went down to ${watched.minReady}`);
  });
});
