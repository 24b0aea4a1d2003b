/**
 * The Pulumi CLI as a user runs it: `pulumi` from PATH (with its Node.js language host and the
 * providers installed as plugins), in a checkout, on a backend and a passphrase. Every command's
 * output is kept in a transcript, so a scenario can say what no command printed. The JSON read here
 * is the CLI's own: `preview --json` (the preview digest), `up/refresh/destroy --json` (engine events,
 * one per line), `stack export` and `stack output --json`.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

import * as pulumi from "@pulumi/pulumi";

/** What to do where `pulumi` is not on PATH: here, and on a machine with internet. */
export const PULUMI_MISSING = [
  "`pulumi` is not on PATH: the e2e runs Pulumi's own CLI, its Node.js language host and the docker and kubernetes providers.",
  "Here (no internet): eval \"$(../shared/tools/pulumi-engine/install)\"   # builds them from the Go module proxy, installs the plugins, sets PATH",
  "With internet: curl -fsSL https://get.pulumi.com | sh   (then `pulumi up` downloads the plugins the lockfile's @pulumi/* name)",
  "See docs/local-platform.md.",
].join("\n");

/** The first `pulumi` on PATH, or undefined. */
export function pulumiOnPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, "pulumi");
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Throws PULUMI_MISSING when there is no `pulumi` to run. */
export function requirePulumi(): string {
  const found = pulumiOnPath();
  if (!found) throw new Error(PULUMI_MISSING);
  return found;
}

/** Where the stacks live: a backend URL (`file://...`) and the passphrase of their secrets. */
export interface StackBackend {
  backendUrl: string;
  passphrase: string;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout and stderr together, as a user's terminal shows them. */
  output: string;
}

/** The unknown-value sentinel in the engine's JSON (the SDK's own constant). */
export const UNKNOWN_SENTINEL = pulumi.runtime.unknownValue;
/** The secret signature in the engine's JSON (a value `{ [SECRET_SIG_KEY]: SECRET_SIG, ... }`). */
export const SECRET_SIG_KEY = pulumi.runtime.specialSigKey;
export const SECRET_SIG = pulumi.runtime.specialSecretSig;

/** A step of `pulumi preview --json` (pkg/display/json.go, PreviewStep). */
export interface PreviewStep {
  op: string;
  urn: string;
  provider?: string;
  oldState?: StateResource;
  newState?: StateResource;
  diffReasons?: string[];
  replaceReasons?: string[];
  detailedDiff: Record<string, { kind: string; inputDiff: boolean }> | null;
}

/** `pulumi preview --json` (pkg/display/json.go, PreviewDigest). */
export interface PreviewDigest {
  steps?: PreviewStep[];
  diagnostics?: { urn?: string; message?: string; severity?: string }[];
  changeSummary?: Record<string, number>;
}

/** A resource of a deployment (apitype.ResourceV3), as `stack export` and the preview digest show it. */
export interface StateResource {
  urn: string;
  type: string;
  custom?: boolean;
  id?: string;
  parent?: string;
  provider?: string;
  inputs?: Record<string, unknown>;
  outputs?: Record<string, unknown>;
  additionalSecretOutputs?: string[];
}

/** `pulumi stack export` (apitype.UntypedDeployment of version 3). */
export interface StackExport {
  version: number;
  deployment: { resources?: StateResource[]; secrets_providers?: unknown; manifest?: unknown };
}

/** One engine event of `pulumi up|refresh|destroy --json` (apitype.EngineEvent), the parts read here. */
export interface EngineEvent {
  /** Unix seconds. */
  timestamp: number;
  resourcePreEvent?: { metadata: StepMetadata };
  resOutputsEvent?: { metadata: StepMetadata };
  resOpFailedEvent?: { metadata: StepMetadata; status: number; steps: number };
  diagnosticEvent?: { urn?: string; message: string; severity: string };
  summaryEvent?: { resourceChanges: Record<string, number>; durationSeconds: number; maybeCorrupt: boolean };
}

export interface StepMetadata {
  op: string;
  urn: string;
  type: string;
  old?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  new?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
  diffs?: string[];
  detailedDiff?: Record<string, { diffKind: string; inputDiff: boolean }>;
  logical?: boolean;
}

/** What an `up`, `refresh` or `destroy` did, per the engine: its summary and each step's operation by URN. */
export interface UpdateResult {
  /** The engine's own summary, e.g. `{ same: 12 }` or `{ same: 10, update: 2 }`. */
  changes: Record<string, number>;
  /** Every step the engine took, in order. */
  steps: StepMetadata[];
  /** Every engine event, in order. */
  events: EngineEvent[];
  diagnostics: { urn?: string; message: string; severity: string }[];
  /** The preview an `up` runs first (without --skip-preview), as `pulumi preview --json` prints it. */
  preview?: PreviewDigest;
  result: CommandResult;
}

/** Every command a scenario ran and everything it printed. */
export class Transcript {
  readonly entries: { command: string; output: string }[] = [];

  add(command: string, output: string): void {
    this.entries.push({ command, output });
  }

  /** The commands whose output contains `text`. */
  commandsPrinting(text: string): string[] {
    return this.entries.filter((e) => e.output.includes(text)).map((e) => e.command);
  }
}

/** Runs a command to its end, whatever its exit code. */
export function runCommand(file: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; input?: string }): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.on("data", (d: Buffer) => ((stdout += d.toString()), (output += d.toString())));
    child.stderr.on("data", (d: Buffer) => ((stderr += d.toString()), (output += d.toString())));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr, output }));
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

/**
 * A deployer: a checkout, a stack in a backend, and the environment a user's shell would have
 * (the platform's DOCKER_HOST, the backend, the passphrase).
 */
export class Deployer {
  readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly checkout: string,
    readonly stack: string,
    backend: StackBackend,
    extraEnv: NodeJS.ProcessEnv,
    readonly transcript: Transcript = new Transcript(),
  ) {
    this.env = {
      ...process.env,
      ...extraEnv,
      PULUMI_BACKEND_URL: backend.backendUrl,
      PULUMI_CONFIG_PASSPHRASE: backend.passphrase,
      // Plugin downloads as the shell has them: off where the kit's install exported
      // PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, on with Pulumi's own installer (the first up fetches them).
      PULUMI_SKIP_UPDATE_CHECK: "true",
      // Plain text: the assertions read what a user reads, without colour codes.
      NO_COLOR: "1",
    };
  }

  /** `pulumi <args>` in the checkout, whatever its exit code. */
  async run(args: string[], input?: string): Promise<CommandResult> {
    const result = await runCommand(requirePulumi(), args, { cwd: this.checkout, env: this.env, input });
    this.transcript.add(`pulumi ${args.join(" ")}`, result.output);
    return result;
  }

  /** `pulumi <args>`, which must succeed: its output in the error otherwise. */
  async must(args: string[], input?: string): Promise<CommandResult> {
    const result = await this.run(args, input);
    if (result.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${result.code} in ${this.checkout}:\n${result.output.slice(-6000)}`);
    return result;
  }

  /** `pulumi stack init`, then `pulumi config set-all` of the values and `pulumi config set --secret` of each secret, from stdin. */
  async init(values: Record<string, string>, secrets: Record<string, string> = {}): Promise<void> {
    await this.must(["stack", "init", this.stack]);
    await this.configure(values, secrets);
  }

  async select(): Promise<void> {
    await this.must(["stack", "select", this.stack]);
  }

  async configure(values: Record<string, string>, secrets: Record<string, string> = {}): Promise<void> {
    const plain = Object.entries(values).flatMap(([key, value]) => ["--plaintext", `${key}=${value}`]);
    if (plain.length > 0) await this.must(["config", "set-all", "--stack", this.stack, ...plain]);
    // From stdin, as `pulumi config set --secret kubeconfig < file` reads it: never on a command line.
    for (const [key, value] of Object.entries(secrets)) await this.must(["config", "set", "--stack", this.stack, "--secret", key], value);
  }

  /** `pulumi preview --json`: the engine's digest of what an `up` would do. */
  async preview(extra: string[] = []): Promise<PreviewDigest> {
    const result = await this.must(["preview", "--stack", this.stack, "--json", ...extra]);
    return JSON.parse(result.stdout) as PreviewDigest;
  }

  /** `pulumi up --yes --json` (a preview, then the update), read from the engine's events. */
  async up(extra: string[] = []): Promise<UpdateResult> {
    return updateResult(await this.must(["up", "--stack", this.stack, "--yes", "--json", ...extra]));
  }

  /** `pulumi up --yes --json` that may fail: the engine's events and the exit code. */
  async tryUp(extra: string[] = []): Promise<UpdateResult> {
    return updateResult(await this.run(["up", "--stack", this.stack, "--yes", "--json", ...extra]));
  }

  async refresh(extra: string[] = []): Promise<UpdateResult> {
    return updateResult(await this.must(["refresh", "--stack", this.stack, "--yes", "--json", ...extra]));
  }

  async destroy(extra: string[] = []): Promise<UpdateResult> {
    return updateResult(await this.must(["destroy", "--stack", this.stack, "--yes", "--json", ...extra]));
  }

  /** `pulumi stack export`: the state as the backend holds it (secrets encrypted). */
  async export(): Promise<StackExport> {
    return JSON.parse((await this.must(["stack", "export", "--stack", this.stack])).stdout) as StackExport;
  }

  /** `pulumi stack output --json` (secrets shown as `[secret]`). */
  async outputs(): Promise<Record<string, unknown>> {
    return JSON.parse((await this.must(["stack", "output", "--stack", this.stack, "--json"])).stdout) as Record<string, unknown>;
  }

  /** `pulumi stack rm --yes`: the stack's (now empty) state and its Pulumi.<stack>.yaml. */
  async removeStack(): Promise<void> {
    await this.must(["stack", "rm", "--stack", this.stack, "--yes"]);
  }
}

/** The engine's events of an `up`/`refresh`/`destroy --json`, one JSON object per line. */
export function updateResult(result: CommandResult): UpdateResult {
  const steps: StepMetadata[] = [];
  const events: EngineEvent[] = [];
  const diagnostics: UpdateResult["diagnostics"] = [];
  let changes: Record<string, number> | undefined;
  const lines = result.stdout.split("\n");
  // The preview's digest comes first, indented over several lines, from a "{" line to a "}" line.
  const start = lines.indexOf("{");
  const end = start < 0 ? -1 : lines.indexOf("}", start);
  const preview = end > start ? (JSON.parse(lines.slice(start, end + 1).join("\n")) as PreviewDigest) : undefined;
  for (const line of lines.slice(end + 1)) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line) as EngineEvent;
    events.push(event);
    if (event.resourcePreEvent) steps.push(event.resourcePreEvent.metadata);
    if (event.diagnosticEvent) diagnostics.push(event.diagnosticEvent);
    if (event.summaryEvent) changes = event.summaryEvent.resourceChanges;
  }
  return { changes: changes ?? {}, steps, events, diagnostics, preview, result };
}
