/**
 * The guides' `pulumi config` recipes applied as a user follows them, for docs/config-commands.test.ts.
 * Every fenced shell command in README.md and docs/*.md that runs `pulumi config set` (or set-all, rm)
 * is applied, section by section, on top of Pulumi.dev.yaml, and the result goes through the stack's
 * own validation (stack/config/).
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
import fs from "node:fs";
import path from "node:path";

import YAML from "yaml";

import { ConfigError, loadConfig } from "../../stack/config/index.js";
import { reader } from "../../stack/testing/harness.js";
import { configSections } from "./config-commands.js";
import { ROOT } from "./guides.js";

export const PROJECT = (YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
const DEV_FILE = fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8");

/** Pulumi.dev.yaml's settings, without the project prefix (an encrypted `secure:` value is a secret of unknown content). */
export const DEV: Record<string, string> = Object.fromEntries(
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

/** The keys a target requires, as the stack's own check says (for sections that only mention the target). */
function requiredByTarget(target: string): string[] {
  try {
    loadConfig(reader({ target }));
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.message.matchAll(new RegExp(`^\\s+- (\\w+): is required when target is ${target}\\b`, "gm"))].map((m) => m[1]);
  }
}

interface State {
  values: Record<string, string>;
  /** Where each value came from: `file:line`, or Pulumi.dev.yaml. */
  origin: Record<string, string>;
}

/** Every problem a user following the file's commands would meet: `file:line: key: message`. */
export function problemsOf(file: string, markdown = fs.readFileSync(path.join(ROOT, file), "utf8"), dev: Record<string, string> = DEV): string[] {
  const problems: string[] = [];
  const reported = new Set<string>();
  let state: State = { values: { ...dev }, origin: Object.fromEntries(Object.keys(dev).map((key) => [key, "Pulumi.dev.yaml"])) };
  const clone = (s: State): State => ({ values: { ...s.values }, origin: { ...s.origin } });

  for (const section of configSections(markdown, PROJECT)) {
    if (section.steps.length === 0) continue;
    const before = clone(state);
    let lastLine = section.line;
    let pending = false;
    /** The target this section set, the keys that target requires, and whether the section set any of them. */
    let ownTarget: { target: string; line: number; required: string[]; setsRequired: boolean } | undefined;
    /** Whether it removes or changes what an earlier section of the file set. */
    let variant = false;
    const setEarlier = (key: string) => before.origin[key]?.startsWith(`${file}:`) === true;

    const validate = () => {
      if (!pending) return;
      pending = false;
      const values = { ...state.values };
      if (ownTarget && !ownTarget.setsRequired) {
        for (const key of ownTarget.required) values[key] ??= sample(key);
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
          ownTarget = { target: value, line: step.line, required: requiredByTarget(value), setsRequired: false };
        } else if (ownTarget?.required.includes(step.key)) ownTarget.setsRequired = true;
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
