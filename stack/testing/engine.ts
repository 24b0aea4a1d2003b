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
