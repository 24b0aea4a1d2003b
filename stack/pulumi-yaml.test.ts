import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { PROGRAM_DIRECTORY } from "./image.js";
import { programDirectory, readProject, runNode } from "./testing/engine.js";

const ROOT = path.resolve(import.meta.dirname, "..");

/**
 * What Pulumi's Node runtime does with `runtime.options.tsconfig` (pulumi/pulumi at 1b594989):
 * the language host passes the option unchanged as PULUMI_NODEJS_TSCONFIG_PATH
 * (sdk/nodejs/cmd/pulumi-language-nodejs/main.go) and starts the program with `--pwd <program
 * directory>`; sdk/nodejs/cmd/run/run.ts chdirs there, checks `fs.existsSync(tsConfigPath)` (a
 * missing file that is not the default "tsconfig.json" is an error; a missing default is skipped
 * silently), reads the compiler options with tsutils.loadTypeScriptCompilerOptions and gives the
 * path to ts-node as `project`. The child below does exactly that, with the SDK's and ts-node's
 * own code.
 */
const RUNTIME_PROBE = `
const fs = require("node:fs");
const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
const skipProject = !fs.existsSync(tsConfigPath);
const compilerOptions = require("@pulumi/pulumi/tsutils").loadTypeScriptCompilerOptions(tsConfigPath);
const service = require("ts-node").create({ project: tsConfigPath, skipProject, transpileOnly: true, compilerOptions: {} });
process.stdout.write(JSON.stringify({
  skipProject,
  resolved: skipProject ? null : fs.realpathSync(tsConfigPath),
  sdkStrict: compilerOptions.strict,
  tsNodeConfigFile: service.configFilePath ?? null,
  tsNodeStrict: service.config.options.strict,
  tsNodeModule: service.config.options.module,
}));
`;

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

    const probe = JSON.parse(await runNode(["-e", RUNTIME_PROBE], programDirectory(ROOT), { PULUMI_NODEJS_TSCONFIG_PATH: String(option) }));
    assert.equal(probe.skipProject, false, "the runtime finds the file");
    assert.equal(probe.resolved, fs.realpathSync(path.join(ROOT, "tsconfig.json")));
    assert.equal(probe.sdkStrict, true, "the SDK reads its compiler options");
    assert.equal(probe.tsNodeConfigFile, path.join(ROOT, "tsconfig.json"), "ts-node compiles with it");
    assert.equal(probe.tsNodeStrict, true);
  });
});
