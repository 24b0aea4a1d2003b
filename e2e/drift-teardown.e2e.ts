/**
 * Drift and teardown: right after `pulumi up`, `pulumi refresh` finds the cluster as the state says;
 * `pulumi destroy` leaves nothing of the stack in the cluster; and `pulumi up` works again after it.
 */
import * as assert from "node:assert/strict";

import { leftovers, namespaceExists, pods } from "./testing/cluster.js";
import { compareDeployed, digestOf, predict } from "./testing/predictions.js";
import { Scenario } from "./testing/scenario.js";

describe("drift and teardown: refresh, destroy, and up again", function () {
  const scenario = new Scenario("e2e-drift-teardown");

  before(async () => {
    await scenario.deployed();
  });
  after(() => scenario.end());

  it("pulumi refresh --expect-no-changes after up: the cluster is as the state says", async () => {
    const refreshed = await scenario.deployer.refresh(["--expect-no-changes"]);
    assert.deepEqual(Object.keys(refreshed.changes), ["same"], JSON.stringify(refreshed.changes));
  });

  it("pulumi destroy leaves nothing of the stack in the cluster, and pulumi up works again after it", async () => {
    const destroyed = await scenario.deployer.destroy();
    assert.deepEqual(Object.keys(destroyed.changes), ["delete"]);
    assert.equal(await namespaceExists(scenario.name), false);
    assert.deepEqual(await leftovers(scenario.name), []);
    assert.deepEqual((await scenario.deployer.export()).deployment.resources ?? [], [], "an empty state");

    await scenario.deployer.up();
    const running = await pods(scenario.name);
    assert.equal(running.length, 2);
    assert.ok(running.every((p) => p.ready));
    const outputs = await scenario.deployer.outputs();
    const mocked = await predict(scenario.values, scenario.secrets, { digest: digestOf(outputs.imageRef) });
    assert.deepEqual(compareDeployed(mocked, await scenario.deployer.export(), outputs), []);
  });
});
