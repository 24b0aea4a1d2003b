/**
 * What the Pulumi engine does before it runs the program, for tests that must run the program as
 * the engine would. Each function names the engine source it follows (pulumi/pulumi at 1b594989).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import YAML from "yaml";

export interface PulumiProject {
  main?: string;
  runtime: { name: string; options?: Record<string, unknown> };
}

export function readProject(projectRoot: string): PulumiProject {
  return YAML.parse(fs.readFileSync(path.join(projectRoot, "Pulumi.yaml"), "utf8")) as PulumiProject;
}

/**
 * The directory the engine runs the program and its resource providers in: pkg/engine/project.go
 * `getPwdMain` (the project root, or `main` when it is a directory, or its parent when it is a file),
 * passed to the Node language host as `--pwd` (sdk/nodejs/cmd/pulumi-language-nodejs/main.go) and
 * used as every provider plugin's `cmd.Dir` (sdk/go/common/resource/plugin/plugin.go `newPlugin`).
 */
export function programDirectory(projectRoot: string): string {
  const { main } = readProject(projectRoot);
  if (!main) return projectRoot;
  const full = path.resolve(projectRoot, main);
  return fs.statSync(full).isDirectory() ? full : path.dirname(full);
}

/** Runs a TypeScript file with tsx in a child process in `cwd`; resolves with its stdout. */
export function runTypeScript(file: string, cwd: string, env: Record<string, string> = {}): Promise<string> {
  return runNode(["--import", "tsx", file], cwd, env);
}

/** Runs node with the given arguments in a child process in `cwd`; resolves with its stdout. */
export async function runNode(args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const { code, stdout, stderr } = await runNodeResult(args, cwd, env);
  if (code !== 0) throw new Error(`node ${args.join(" ")} in ${cwd} exited ${code}:\n${stderr}`);
  return stdout;
}

/** Runs node in a child process in `cwd`; resolves with its exit code and output, whatever the code. */
export function runNodeResult(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * The tests load the program through tsx, which forgives more than what `pulumi up` uses. The project is
 * an ES module package ("type": "module"), so Pulumi's Node runtime takes its "automatic ESM mode"
 * (sdk/nodejs/cmd/run/run.ts in pulumi/pulumi v3.248.0): it registers its own loader hooks
 * (cmd/run/hooks.ts: ts-node's ESM hooks, which need the project's own ts-node) with module.register,
 * with the tsconfig named in Pulumi.yaml, in the program's directory, and imports the program. The
 * child script below does the same with the SDK's own hooks, so the program and the API modules it shares (ES
 * modules with their own dependencies, such as zod) load as the engine loads them. It prints what it
 * loaded (stack/esm-load.test.ts).
 */
export const LOAD_LIKE_PULUMI = `
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
const { loadConfig } = await import(pathToFileURL("./config/index.ts").href);
const { api } = loadConfig({ get: (key) => ({ bodyLimit: "512kb" })[key], getSecret: () => undefined });
process.stdout.write(JSON.stringify({ runStack: typeof runStack, bodyLimit: api.settings.BODY_LIMIT }));
`;

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
export const TSCONFIG_PROBE = `
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
