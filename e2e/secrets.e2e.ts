/**
 * Secrets: with `authMode: basic`, the password set with `pulumi config set --secret` reaches the API
 * and is in clear nowhere else: not in the state (`pulumi stack export`, the backend's files), not in
 * Pulumi.<stack>.yaml, not in any command's output. Nor is the kubeconfig's private key.
 */
import * as assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

import { portForward } from "./testing/cluster.js";
import { compareDeployed, digestOf, predict } from "./testing/predictions.js";
import { Scenario } from "./testing/scenario.js";

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe("secrets: the basic-auth password is in clear in no state file and no command's output", function () {
  const scenario = new Scenario("e2e-secrets");
  const password = randomBytes(18).toString("base64url");
  let clientKey: string;

  before(async () => {
    await scenario.deployed({ authMode: "basic", basicAuthUsername: "adf" }, { basicAuthPassword: password });
    // The kubeconfig's client key (base64 in the file, YAML or JSON) is a secret of the same kind.
    clientKey = /"?client-key-data"?: *"?([A-Za-z0-9+/=]+)/.exec(scenario.secrets.kubeconfig!)?.[1] ?? "";
    assert.ok(clientKey.length > 40, "the platform's kubeconfig has a client key");
  });
  after(() => scenario.end());

  it("pulumi stack export holds neither the password nor the kubeconfig's key in clear", async () => {
    const exported = JSON.stringify(await scenario.deployer.export());
    assert.ok(!exported.includes(password));
    assert.ok(!exported.includes(clientKey));
  });

  it("nor does any file of the backend, nor Pulumi.<stack>.yaml", () => {
    const files = [...filesUnder(fileURLToPath(scenario.backend.backendUrl)), path.join(scenario.deployer.checkout, `Pulumi.${scenario.name}.yaml`)];
    assert.ok(files.length > 2, files.join(", "));
    for (const file of files) {
      const text = fs.readFileSync(file, "latin1");
      assert.ok(!text.includes(password), `${file} holds the password`);
      assert.ok(!text.includes(clientKey), `${file} holds the kubeconfig's key`);
    }
  });

  it("no command printed either (config set, preview, up, stack export, stack output)", async () => {
    await scenario.deployer.preview(["--expect-no-changes"]);
    await scenario.deployer.outputs();
    assert.deepEqual(scenario.transcript.commandsPrinting(password), []);
    assert.deepEqual(scenario.transcript.commandsPrinting(clientKey), []);
  });

  it("the deployed API asks for it: 401 without the password, 200 with it", async () => {
    const forward = await portForward(scenario.name);
    try {
      assert.equal((await fetch(`${forward.url}/helloworld`)).status, 401);
      const authorization = `Basic ${Buffer.from(`adf:${password}`).toString("base64")}`;
      assert.equal((await fetch(`${forward.url}/helloworld`, { headers: { authorization } })).status, 200);
    } finally {
      await forward.stop();
    }
  });

  it("the mocks' secret inputs, and the rest of their prediction, are the engine's", async () => {
    const outputs = await scenario.deployer.outputs();
    const mocked = await predict(scenario.values, scenario.secrets, { digest: digestOf(outputs.imageRef) });
    assert.deepEqual(compareDeployed(mocked, await scenario.deployer.export(), outputs), []);
  });
});
