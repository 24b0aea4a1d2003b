// The Pulumi step's inline script run by bash as the agent would, for the pipelines' tests
// (pipelines.test.ts), with `pulumi` and `az` replaced by recorders (neither can run here).
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { ROOT } from "./reads.js";
import { allSteps, pulumiCommands, scriptOf } from "./stages.js";
import { isMapping, type Pipeline } from "./templates.js";

export interface ScriptRun {
  status: number;
  output: string;
  /** Every `pulumi` and `az` invocation, in order, as "pulumi up --stack dev ...". */
  calls: string[];
}

/**
 * Runs the Pulumi step's inline script with bash as the agent would, with `pulumi` and `az` replaced
 * by recorders (neither can run here). `config` is the stack's config (`pulumi config get`),
 * `outputs` its last outputs, `registries` the registries `az acr show` finds.
 */
export async function runPulumiStep(
  p: Pipeline,
  options: { config?: Record<string, string>; outputs?: Record<string, string>; registries?: string[]; env?: Record<string, string> },
): Promise<ScriptRun> {
  const step = allSteps(p).find((s) => pulumiCommands(s).length > 0);
  assert.ok(step && isMapping(step.env));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-step-"));
  try {
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    const log = path.join(dir, "calls.log");
    const table = (name: string, values: Record<string, string> = {}) => {
      fs.writeFileSync(path.join(dir, name), Object.entries(values).map(([k, v]) => `${k}=${v}\n`).join(""));
    };
    table("config", options.config);
    table("outputs", options.outputs);
    fs.writeFileSync(path.join(dir, "registries"), (options.registries ?? []).map((r) => `${r}\n`).join(""));
    const recorder = (body: string) => `#!/usr/bin/env bash\necho "$(basename "$0") $*" >> "${log}"\n${body}\n`;
    const lookup = (file: string, key: string) => `v="$(grep -m1 "^${key}=" "${path.join(dir, file)}" | cut -d= -f2-)"; [ -n "$v" ] && echo "$v"`;
    fs.writeFileSync(
      path.join(bin, "pulumi"),
      recorder(`case "$1 $2" in
  "config get") ${lookup("config", "$3")} ;;
  "stack output") ${lookup("outputs", "$3")} ;;
  "preview --stack") echo "+ kubernetes:apps/v1:Deployment api create" ;;
  *) exit 0 ;;
esac`),
      { mode: 0o755 },
    );
    fs.writeFileSync(
      path.join(bin, "az"),
      recorder(`case "$1 $2" in
  "account show") echo 00000000-0000-0000-0000-000000000000 ;;
  "acr show") grep -qx "$4" "${path.join(dir, "registries")}" ;;
  *) exit 0 ;;
esac`),
      { mode: 0o755 },
    );
    const env: NodeJS.ProcessEnv = {
      // The recorders, node, and the system's own tools: nothing else a developer may have installed.
      PATH: [bin, path.dirname(process.execPath), "/usr/bin", "/bin"].join(":"),
      HOME: dir,
      AGENT_TEMPDIRECTORY: dir,
      PULUMI_ACCESS_TOKEN: "pul-test",
      SYSTEM_ACCESSTOKEN: "$(System.AccessToken)",
      PULUMI_CONFIG_PASSPHRASE: "$(PULUMI_CONFIG_PASSPHRASE)",
    };
    for (const [k, v] of Object.entries(step.env)) if (!(k in env)) env[k] = String(v);
    env.PUBLISH_OUTPUTS = "false"; // needs jq and real outputs: not what these runs check
    Object.assign(env, options.env);
    // The step's workingDirectory is the repository root.
    const child = spawn("bash", ["-c", scriptOf(step)], { env, cwd: ROOT });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const status = await new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    const calls = fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [];
    return { status, output, calls };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

