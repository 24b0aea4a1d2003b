/**
 * The guides' `pulumi config` commands leave a stack the program accepts. Every fenced shell command in
 * README.md and docs/*.md that runs `pulumi config set` (or set-all, rm) is applied, section by section,
 * on top of Pulumi.dev.yaml, and the result goes through the stack's own validation (stack/config.ts).
 *
 * - A file is read top to bottom: its sections build on the ones before (exposure https set in one is
 *   still set in the next).
 * - A section that sets `target` is about that target: from that line to the section's end the steps
 *   build on it, and the next section goes back to what was there before. So is a section that removes
 *   or changes a setting an earlier section made: it describes another setup, not the next step.
 * - A section that sets a target and none of the keys that target requires is a note about that target,
 *   not a whole recipe: the required keys take Pulumi.dev.yaml's commented examples.
 * - A value only known when the command runs (`"$(kind get kubeconfig)"`, `"$ranges"`, `<password>`)
 *   takes a sample of the right shape (SAMPLES, else Pulumi.dev.yaml's commented example of the key).
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import YAML from "yaml";

import { ConfigError, loadConfig } from "../stack/config.js";
import { reader } from "../stack/testing/harness.js";
import { configSections, configSteps, type ConfigStep } from "./testing/config-commands.js";
import { parseShell } from "./testing/shell.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const PROJECT = (YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
const DEV_FILE = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");

/** Pulumi.dev.yaml's settings, without the project prefix (an encrypted `secure:` value is a secret of unknown content). */
const DEV: Record<string, string> = Object.fromEntries(
  Object.entries((YAML.parse(DEV_FILE) as { config?: Record<string, unknown> }).config ?? {}).map(([key, value]) => [
    key.replace(`${PROJECT}:`, ""),
    typeof value === "string" ? value : "secret",
  ]),
);
/** Every key Pulumi.dev.yaml lists, set or commented, and its commented example value (the first one). */
const EXAMPLES = new Map<string, string>();
for (const m of DEV_FILE.matchAll(new RegExp(`^\\s*#\\s*${PROJECT}:(\\w+):\\s*("[^"]*"|\\S+)`, "gm"))) {
  if (!EXAMPLES.has(m[1])) EXAMPLES.set(m[1], m[2].replace(/^"|"$/g, ""));
}
const SECRET_KEYS = new Set([...DEV_FILE.matchAll(/config set --secret (\w+)/g)].map((m) => m[1]));
const DOCUMENTED = new Set([...Object.keys(DEV), ...EXAMPLES.keys(), ...SECRET_KEYS]);

/** Values of the right shape for settings the guides compute when they run. */
const SAMPLES: Record<string, string> = {
  kubeconfig: "apiVersion: v1\nkind: Config\n",
  allowedSourceRanges: "203.0.113.0/24,198.51.100.0/24",
  entraTenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  entraAllowedCallers: "33333333-3333-3333-3333-333333333333",
};
const sample = (key: string): string => SAMPLES[key] ?? EXAMPLES.get(key) ?? "sample";

/** The keys each target requires (stack/config.ts), for sections that only mention the target. */
const REQUIRED_BY_TARGET: Record<string, string[]> = {
  existing: ["registryName", "registryResourceGroup", "clusterName", "clusterResourceGroup"],
  kubeconfig: ["kubeconfig", "registryServer"],
};

function guides(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((file) => file.endsWith(".md"))
    .sort()
    .map((file) => path.join("docs", file));
  return ["README.md", ...docs];
}

interface State {
  values: Record<string, string>;
  /** Where each value came from: `file:line`, or Pulumi.dev.yaml. */
  origin: Record<string, string>;
}

/** Every problem a user following the file's commands would meet: `file:line: key: message`. */
function problemsOf(file: string, markdown = fs.readFileSync(path.join(ROOT, file), "utf8"), dev: Record<string, string> = DEV): string[] {
  const problems: string[] = [];
  const reported = new Set<string>();
  let state: State = { values: { ...dev }, origin: Object.fromEntries(Object.keys(dev).map((key) => [key, "Pulumi.dev.yaml"])) };
  const clone = (s: State): State => ({ values: { ...s.values }, origin: { ...s.origin } });

  for (const section of configSections(markdown, PROJECT)) {
    if (section.steps.length === 0) continue;
    const before = clone(state);
    let lastLine = section.line;
    let pending = false;
    /** The target this section set, and whether it set any key that target requires. */
    let ownTarget: { target: string; line: number; setsRequired: boolean } | undefined;
    /** Whether it removes or changes what an earlier section of the file set. */
    let variant = false;
    const setEarlier = (key: string) => before.origin[key]?.startsWith(`${file}:`) === true;

    const validate = () => {
      if (!pending) return;
      pending = false;
      const values = { ...state.values };
      if (ownTarget && !ownTarget.setsRequired) {
        for (const key of REQUIRED_BY_TARGET[ownTarget.target] ?? []) values[key] ??= sample(key);
      }
      const target = values["target"] ?? "new";
      const where = `target ${target}${ownTarget ? ` (set at line ${ownTarget.line})` : " (from Pulumi.dev.yaml and the sections before)"}`;
      try {
        loadConfig(reader(values));
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        for (const [, key, message] of error.message.matchAll(/^\s+- (\w+): (.*)$/gm)) {
          const origin = state.origin[key] ?? "unset";
          const line = origin.startsWith(`${file}:`) ? origin : `${file}:${lastLine}`;
          // Reported once, where it first shows: a later section inherits the setting, not the mistake.
          if (reported.has(`${origin} ${key} ${message}`)) continue;
          reported.add(`${origin} ${key} ${message}`);
          problems.push(`${line}: ${key}: ${message} [section "${section.heading}", ${where}; ${key} ${origin.startsWith(file) ? "set here" : `from ${origin}`}]`);
        }
      }
    };

    for (const step of section.steps) {
      const at = `${file}:${step.line}`;
      if (step.kind === "invalid") {
        problems.push(`${at}: ${step.key}: ${step.problem}`);
        continue;
      }
      if (!DOCUMENTED.has(step.key)) {
        problems.push(`${at}: ${step.key}: is no key of the stack (Pulumi.dev.yaml lists every key)`);
        continue;
      }
      if (step.kind === "rm") {
        if (setEarlier(step.key)) variant = true;
        delete state.values[step.key];
        delete state.origin[step.key];
      } else {
        if (SECRET_KEYS.has(step.key) && !step.secret) problems.push(`${at}: ${step.key}: is a secret: set it with --secret`);
        const value = step.dynamic ? sample(step.key) : step.value;
        if (setEarlier(step.key) && before.values[step.key] !== value) variant = true;
        if (step.key === "target") {
          validate(); // what came before is its own recipe
          ownTarget = { target: value, line: step.line, setsRequired: false };
        } else if (ownTarget && REQUIRED_BY_TARGET[ownTarget.target]?.includes(step.key)) ownTarget.setsRequired = true;
        state.values[step.key] = value;
        state.origin[step.key] = at;
      }
      pending = true;
      lastLine = step.line;
    }
    validate();
    if (ownTarget || variant) state = before; // the next section is about the stack as it was
  }
  return problems;
}

describe("the guides' pulumi config commands", () => {
  for (const file of guides()) {
    it(`${file}: every recipe passes the stack's validation on top of Pulumi.dev.yaml`, () => {
      const problems = problemsOf(file);
      assert.deepEqual(problems, [], `\n${problems.join("\n")}`);
    });
  }

  it("would catch what it is for: a kind recipe on a Pulumi.dev.yaml that sets Azure-only keys, a bad value, an unknown key", () => {
    const guide = [
      "# Local",
      "```sh",
      "pulumi config set target kubeconfig",
      `pulumi config set --secret kubeconfig "$(kind get kubeconfig --name dev)"`,
      "pulumi config set registryServer localhost:5001",
      "```",
      "# Tuning",
      "```sh",
      "pulumi config set replicas many && pulumi config set replica 3",
      "pulumi config set basicAuthPassword hunter2",
      "```",
    ].join("\n");
    const problems = problemsOf("docs/guide.md", guide, { ...DEV, clusterCredentials: "admin", registryAuth: "entra" });
    assert.equal(problems.length, 5, problems.join("\n"));
    assert.match(problems[0], /^docs\/guide\.md:5: clusterCredentials: applies to AKS only.*target kubeconfig \(set at line 3\); clusterCredentials from Pulumi\.dev\.yaml/);
    assert.match(problems[1], /^docs\/guide\.md:5: registryAuth: /);
    assert.match(problems[2], /^docs\/guide\.md:9: replica: is no key of the stack/);
    assert.match(problems[3], /^docs\/guide\.md:10: basicAuthPassword: is a secret: set it with --secret/);
    assert.match(problems[4], /^docs\/guide\.md:9: replicas: must be a whole number/);
  });

  it("the guides have recipes at all (the parser finds them)", () => {
    const steps = guides().flatMap((file) => configSections(fs.readFileSync(path.join(ROOT, file), "utf8"), PROJECT).flatMap((s) => s.steps));
    assert.ok(steps.some((s) => s.kind === "set" && s.key === "target" && s.value === "kubeconfig"), "the kind recipe is found");
    assert.ok(steps.filter((s) => s.kind === "set").length >= 10);
  });
});

describe("reading the guides' shell commands", () => {
  const steps = (script: string): ConfigStep[] => parseShell(script).flatMap((c) => configSteps(c.words, c.line, PROJECT) ?? []);

  it("quotes, line continuations, $(...), comments and && chains", () => {
    const script = [
      `pulumi config set --secret kubeconfig "$(kind get kubeconfig --name dev)"   # required`,
      `pulumi config set registryName myacr        && pulumi config set registryResourceGroup 'rg shared'`,
      `pulumi config set \\`,
      `    allowedSourceRanges "$ranges"; pulumi up`,
      `ranges=$(az network list-service-tags --location westeurope \\`,
      `  --query "values[?name=='DataFactory.WestEurope'].properties.addressPrefixes[]" -o tsv | paste -sd, -)`,
      `pulumi config set ${PROJECT}:logLevel debug --stack dev`,
      `pulumi config set azure-native:location westeurope`,
      `pulumi config set --path exposure.mode https`,
      `pulumi config set hostname adf.example.com extra`,
      `pulumi config rm clusterCredentials && pulumi config set-all --plaintext a=1 --secret b=$B`,
      `echo "pulumi config set not a command" > /dev/null 2>&1`,
    ].join("\n");
    assert.deepEqual(steps(script), [
      { kind: "set", key: "kubeconfig", value: "$(kind get kubeconfig --name dev)", dynamic: true, secret: true, line: 1 },
      { kind: "set", key: "registryName", value: "myacr", dynamic: false, secret: false, line: 2 },
      { kind: "set", key: "registryResourceGroup", value: "rg shared", dynamic: false, secret: false, line: 2 },
      { kind: "set", key: "allowedSourceRanges", value: "$ranges", dynamic: true, secret: false, line: 3 },
      { kind: "set", key: "logLevel", value: "debug", dynamic: false, secret: false, line: 7 },
      { kind: "invalid", key: "exposure.mode", line: 9, problem: "sets a structured value (--path): every key of the stack is a plain string" },
      { kind: "invalid", key: "hostname", line: 10, problem: "pulumi config set takes a key and a value, got 3 arguments (a value with spaces must be quoted)" },
      { kind: "rm", key: "clusterCredentials", line: 11 },
      { kind: "set", key: "a", value: "1", dynamic: false, secret: false, line: 11 },
      { kind: "set", key: "b", value: "$B", dynamic: true, secret: true, line: 11 },
    ]);
  });

  it("console blocks: only the $ lines are commands; other fences are not shell", () => {
    const markdown = [
      "# A",
      "```console",
      "$ pulumi config set replicas 3",
      "pulumi config set replicas 99",
      "```",
      "```text",
      "pulumi config set replicas 98",
      "```",
      "## B",
      "  ```bash",
      "  pulumi config set target kubeconfig",
      "  ```",
    ].join("\n");
    assert.deepEqual(
      configSections(markdown, PROJECT).map((s) => [s.heading, s.steps.map((step) => step.kind === "set" && `${step.key}=${step.value}@${step.line}`)]),
      [
        ["(top)", []],
        ["A", ["replicas=3@3"]],
        ["B", ["target=kubeconfig@11"]],
      ],
    );
  });
});
