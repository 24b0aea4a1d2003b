import * as assert from "node:assert/strict";
import * as path from "node:path";

import { programDirectory, readProject, runNode } from "./testing/engine.js";

const ROOT = path.resolve(import.meta.dirname, "..");

/**
 * The tests load the program through tsx, which forgives more than what `pulumi up` uses. The project is
 * an ES module package ("type": "module"), so Pulumi's Node runtime takes its "automatic ESM mode"
 * (sdk/nodejs/cmd/run/run.ts in pulumi/pulumi v3.248.0): it registers its own loader hooks
 * (cmd/run/hooks.ts: ts-node's ESM hooks, which need the project's own ts-node) with module.register,
 * with the tsconfig named in Pulumi.yaml, in the program's directory, and imports the program. This
 * child does the same with the SDK's own hooks, so the program and the API modules it shares (ES
 * modules with their own dependencies, such as zod) load as the engine loads them. Type-checking is
 * `npm run typecheck`'s job (same tsconfig); the e2e runs the real engine.
 */
const LOAD_LIKE_PULUMI = `
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";
const require = createRequire(process.cwd() + "/");
const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH;
const compilerOptions = require("@pulumi/pulumi/tsutils").loadTypeScriptCompilerOptions(tsConfigPath);
require.resolve("ts-node/esm"); // the runtime falls back to CommonJS without it
const hooks = require.resolve("@pulumi/pulumi/cmd/run/hooks.js");
register(hooks, pathToFileURL(hooks), {
  data: {
    compiler: require.resolve("typescript"),
    transpileOnly: true,
    project: tsConfigPath,
    skipProject: false,
    compilerOptions: { target: "ES2022", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
  },
});
const { runStack } = await import(pathToFileURL("./program.ts").href);
const { loadConfig } = await import(pathToFileURL("./config.ts").href);
const { api } = loadConfig({ get: (key) => ({ bodyLimit: "512kb" })[key], getSecret: () => undefined });
process.stdout.write(JSON.stringify({ runStack: typeof runStack, bodyLimit: api.BODY_LIMIT }));
`;

describe("the program loads as Pulumi loads it (ES modules, ts-node's ESM hooks)", function () {
  this.timeout(180_000); // ts-node compiles the program and its imports (about 15 s of CPU)

  it("imports stack/program.ts and the API modules it shares", async () => {
    const tsconfig = String(readProject(ROOT).runtime.options?.tsconfig);
    const stdout = await runNode(["--input-type=module", "-e", LOAD_LIKE_PULUMI], programDirectory(ROOT), { PULUMI_NODEJS_TSCONFIG_PATH: tsconfig });
    assert.deepEqual(JSON.parse(stdout), { runStack: "function", bodyLimit: "512kb" });
  });
});
