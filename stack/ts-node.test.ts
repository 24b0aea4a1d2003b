import * as assert from "node:assert/strict";
import * as path from "node:path";

import { programDirectory, readProject, runNode } from "./testing/engine";

const ROOT = path.resolve(__dirname, "..");

/**
 * The tests load the program through tsx, which forgives more than what `pulumi up` uses: for a
 * project without "type": "module", Pulumi's Node runtime registers ts-node (CommonJS) with the
 * tsconfig named in Pulumi.yaml, in the program's directory, and requires the program
 * (sdk/nodejs/cmd/run/run.ts in pulumi/pulumi). ts-node cannot require the API's ES modules, so the
 * modules the program shares with the API are CommonJS (.cts): this loads the program that way.
 * Type-checking is `npm run typecheck`'s job (same tsconfig); here only resolution and loading count.
 */
const LOAD_LIKE_PULUMI = `
const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH;
const compilerOptions = require("@pulumi/pulumi/tsutils").loadTypeScriptCompilerOptions(tsConfigPath);
require("ts-node").register({
  compiler: require.resolve("typescript"),
  project: tsConfigPath,
  transpileOnly: true,
  compilerOptions: { target: "ES2020", module: "nodenext", moduleResolution: "nodenext", sourceMap: "true", ...compilerOptions },
});
const { runStack } = require("./program.ts");
const { loadConfig } = require("./config.ts");
const { api } = loadConfig({ get: (key) => ({ bodyLimit: "512kb" })[key], getSecret: () => undefined });
process.stdout.write(JSON.stringify({ runStack: typeof runStack, bodyLimit: api.BODY_LIMIT }));
`;

describe("the program loads as Pulumi loads it (ts-node, CommonJS)", function () {
  this.timeout(60_000);

  it("requires stack/program.ts and the API modules it shares", async () => {
    const tsconfig = String(readProject(ROOT).runtime.options?.tsconfig);
    const stdout = await runNode(["-e", LOAD_LIKE_PULUMI], programDirectory(ROOT), { PULUMI_NODEJS_TSCONFIG_PATH: tsconfig });
    assert.deepEqual(JSON.parse(stdout), { runStack: "function", bodyLimit: "512kb" });
  });
});
