/**
 * A second deployer: a teammate's clone, at another path and depth, of the commit that holds the stack's
 * settings (Pulumi.<stack>.yaml), on the same backend with the same passphrase. What they deploy is
 * what is deployed: the engine finds nothing to change and no pod is replaced.
 */
import * as assert from "node:assert/strict";

import { commitAll } from "./testing/checkout.js";
import { pods } from "./testing/cluster.js";
import { compareOperations, digestOf, predict, predictedOperations, previewOperations } from "./testing/predictions.js";
import type { Deployer } from "./testing/pulumi.js";
import { Scenario } from "./testing/scenario.js";

describe("a second deployer, from another clone at another path and depth", function () {
  const scenario = new Scenario("e2e-second-deployer");
  let second: Deployer;

  before(async () => {
    const first = await scenario.deployed();
    // The first deployer commits the stack's settings, as a team keeps them; the second clones that commit.
    await commitAll(first.checkout, `Stack ${scenario.name}: settings`);
    second = scenario.deployerIn(await scenario.checkout(1, first.checkout));
    await second.select();
  });
  after(() => scenario.end());

  it("pulumi preview --expect-no-changes passes in the second clone, and the mocks predict no change either", async () => {
    const preview = await second.preview(["--expect-no-changes"]);
    assert.deepEqual(Object.keys(preview.changeSummary ?? {}), ["same"]);
    const mocked = await predict(scenario.values, scenario.secrets, { digest: digestOf((await second.outputs()).imageRef) });
    assert.deepEqual(compareOperations(predictedOperations(mocked, mocked), previewOperations(preview)), []);
  });

  it("pulumi up from the second clone updates nothing, by the engine's own summary, and replaces no pod", async () => {
    const before = await pods(scenario.name);
    const result = await second.up();
    assert.deepEqual(Object.keys(result.changes), ["same"], JSON.stringify(result.changes));
    assert.deepEqual(await pods(scenario.name), before, "the same pods (UIDs), running the same image");
  });
});
