import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { checkout, stringsIn } from "./testing/checkout.js";
import { programDirectory, runTypeScript } from "./testing/engine.js";

const ROOT = path.resolve(import.meta.dirname, "..");

describe("two checkouts (a second machine)", function () {
  this.timeout(120_000);
  let temp: string;
  before(() => {
    temp = fs.mkdtempSync(path.join(os.tmpdir(), "adf-webhook-checkouts-"));
  });
  after(() => {
    fs.rmSync(temp, { recursive: true, force: true });
  });

  it("the program gives every resource the same inputs from checkouts at different paths and depths, deployed and previewed", async () => {
    const workstation = checkout(path.join(temp, "w"));
    const agent = checkout(path.join(temp, "agent", "_work", "7", "s", "adf-webhook"));
    // Run as the engine runs it: in the program's directory (stack/, from Pulumi.yaml `main`).
    const [a, b] = await Promise.all(
      [workstation, agent].map(async (root) => {
        const cwd = programDirectory(root);
        assert.equal(cwd, path.join(root, "stack"));
        return JSON.parse(await runTypeScript(path.join(cwd, "testing", "print-registrations.ts"), cwd)) as { cwd: string; runs: unknown[] };
      }),
    );
    assert.equal(a.cwd, path.join(workstation, "stack"));
    assert.equal(b.cwd, path.join(agent, "stack"));
    assert.ok(a.runs.length >= 10);
    assert.ok(a.runs.some((r) => (r as { preview: boolean }).preview), "as a preview too");
    assert.ok(
      a.runs.some((run) => JSON.stringify(run).includes('"azure-native:app:ContainerApp"')),
      "target containerapps too: the same inputs (its image build context included) from either checkout",
    );
    assert.deepEqual(b.runs, a.runs, "inputs, options, provider calls and outputs are identical");

    for (const text of stringsIn(a.runs)) {
      assert.ok(!text.includes(temp) && !text.includes(ROOT) && !text.includes(os.homedir()), `no machine path in ${JSON.stringify(text)}`);
      assert.ok(!/^[A-Za-z]:[\\/]/.test(text), `no Windows path: ${JSON.stringify(text)}`);
    }
  });
});
