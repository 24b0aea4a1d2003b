/**
 * Bad input: an invalid setting, an image that does not build, a registry that cannot be reached. Each
 * fails with a message that says what is wrong, and none disturbs what runs.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { loadConfig } from "../stack/config/index.js";
import { reader } from "../stack/testing/harness.js";
import { getJson, namespaceExists, pods, APP } from "./testing/cluster.js";
import { Scenario } from "./testing/scenario.js";

describe("bad input: a wrong setting, a broken build, an unreachable registry", function () {
  const scenario = new Scenario("e2e-bad-input");

  before(async () => {
    await scenario.deployed();
  });
  after(() => scenario.end());

  it("an invalid setting stops pulumi preview with the project's own message, naming the key, and creates nothing", async () => {
    const stack = `${scenario.name}-invalid`;
    const values = { ...scenario.values, namespace: stack, replicas: "many" };
    const deployer = await scenario.newStack(stack, scenario.deployer.checkout, values, scenario.secrets);
    const preview = await deployer.run(["preview", "--stack", stack]);
    assert.notEqual(preview.code, 0);
    // The message the mocked tests see is the one the engine printed.
    assert.throws(() => loadConfig(reader(values, scenario.secrets)), (error: Error) => {
      for (const line of error.message.split("\n")) assert.ok(preview.output.includes(line.trim()), `the engine printed "${line.trim()}":\n${preview.output}`);
      return true;
    });
    assert.match(preview.output, /replicas: must be a whole number between 1 and 100 \(got "many"\)/);
    assert.deepEqual((await deployer.export()).deployment.resources ?? [], []);
    assert.equal(await namespaceExists(stack), false);
  });

  it("an image that fails to build fails pulumi up with the build's error and leaves the running Deployment as it was", async () => {
    const before = { pods: await pods(scenario.name), deployment: await getJson<{ metadata: { generation: number } }>(["get", "deployment", APP, "-n", scenario.name]) };
    const broken = path.join(scenario.deployer.checkout, "api/src/jobs/broken.ts");
    fs.writeFileSync(broken, "export const broken: number = 'not a number';\n");
    try {
      const result = await scenario.deployer.tryUp();
      assert.notEqual(result.result.code, 0);
      assert.match(result.result.output, /TS2322|not assignable/, "the compiler's own error");
      assert.deepEqual(result.steps.filter((s) => s.type === "kubernetes:apps/v1:Deployment" && s.op !== "same"), [], "the Deployment is not touched");
    } finally {
      fs.rmSync(broken);
    }
    const after = await getJson<{ metadata: { generation: number } }>(["get", "deployment", APP, "-n", scenario.name]);
    assert.equal(after.metadata.generation, before.deployment.metadata.generation);
    assert.deepEqual(await pods(scenario.name), before.pods, "the same pods, running the same image");
  });

  it("an unreachable registry fails pulumi up with a message that names it", async () => {
    const stack = `${scenario.name}-unreachable`;
    const values = { ...scenario.values, namespace: stack, imageTag: stack, registryServer: "127.0.0.1:1" };
    const deployer = await scenario.newStack(stack, scenario.deployer.checkout, values, scenario.secrets);
    const result = await deployer.tryUp();
    assert.notEqual(result.result.code, 0);
    // In the engine's errors, not merely in the settings it echoes.
    const errors = result.diagnostics.filter((d) => d.severity === "error").map((d) => d.message).join("\n");
    assert.match(errors, /127\.0\.0\.1:1\b/, result.result.output.slice(-4000));
    const running = (await namespaceExists(stack)) ? await pods(stack) : [];
    assert.equal(running.length, 0, "no pod runs an image that was never pushed");
  });
});
