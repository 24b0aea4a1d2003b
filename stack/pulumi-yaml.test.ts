import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { PROGRAM_DIRECTORY } from "./image.js";
import { programDirectory, readProject, runNode, TSCONFIG_PROBE } from "./testing/engine.js";

const ROOT = path.resolve(import.meta.dirname, "..");

describe("Pulumi.yaml", () => {
  const project = readProject(ROOT);

  it("runs the program from stack/, where stack/index.ts is, with TypeScript", () => {
    assert.equal(project.runtime.name, "nodejs");
    assert.equal(project.runtime.options?.typescript, true);
    assert.equal(programDirectory(ROOT), path.join(ROOT, PROGRAM_DIRECTORY));
    assert.ok(fs.existsSync(path.join(programDirectory(ROOT), "index.ts")));
  });

  it("runtime.options.tsconfig, resolved as the Node runtime resolves it, is the strict root tsconfig.json", async function () {
    this.timeout(30_000);
    const option = project.runtime.options?.tsconfig;
    assert.equal(typeof option, "string");
    // No tsconfig.json in stack/ to shadow it (the default the runtime would silently skip to).
    assert.ok(!fs.existsSync(path.join(programDirectory(ROOT), "tsconfig.json")));

    const probe = JSON.parse(await runNode(["-e", TSCONFIG_PROBE], programDirectory(ROOT), { PULUMI_NODEJS_TSCONFIG_PATH: String(option) }));
    assert.equal(probe.skipProject, false, "the runtime finds the file");
    assert.equal(probe.resolved, fs.realpathSync(path.join(ROOT, "tsconfig.json")));
    assert.equal(probe.sdkStrict, true, "the SDK reads its compiler options");
    assert.equal(probe.tsNodeConfigFile, path.join(ROOT, "tsconfig.json"), "ts-node compiles with it");
    assert.equal(probe.tsNodeStrict, true);
  });
});
