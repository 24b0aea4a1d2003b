// The Azure Pipelines, read as Azure DevOps would: the YAML is parsed, the templates it uses are
// expanded with their parameters (compile-time `${{ }}` expressions included), and the result is
// checked: the triggers and path filters, that pull requests only preview and main only runs
// `pulumi up`, and that lint, type-check and tests pass before any Pulumi command.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..");
const PIPELINES = __dirname;

type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };
type Mapping = { [key: string]: Yaml };

const isMapping = (v: unknown): v is Mapping => typeof v === "object" && v !== null && !Array.isArray(v);

function load(file: string): Mapping {
  const doc: unknown = parse(fs.readFileSync(file, "utf8"));
  assert.ok(isMapping(doc), `${file} is not a YAML mapping`);
  return doc;
}

// --- compile-time expressions -------------------------------------------------------------------

/** Evaluates the subset of template expressions these pipelines may use. */
function evaluate(source: string, parameters: Mapping): Yaml {
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`expression "${source}": ${why} at ${at}`);
  };
  const space = () => {
    while (/\s/.test(source[at] ?? "")) at++;
  };
  const truthy = (v: Yaml): boolean => !(v === false || v === null || v === "" || v === 0 || (typeof v === "string" && v.toLowerCase() === "false"));
  const text = (v: Yaml): string => (typeof v === "boolean" ? (v ? "True" : "False") : typeof v === "string" ? v : JSON.stringify(v));
  const same = (a: Yaml, b: Yaml) => text(a).toLowerCase() === text(b).toLowerCase();
  const functions: Record<string, (args: Yaml[]) => Yaml> = {
    eq: ([a, b]) => same(a, b),
    ne: ([a, b]) => !same(a, b),
    and: (args) => args.every(truthy),
    or: (args) => args.some(truthy),
    not: ([a]) => !truthy(a),
    startsWith: ([a, b]) => text(a).toLowerCase().startsWith(text(b).toLowerCase()),
    contains: ([a, b]) => text(a).toLowerCase().includes(text(b).toLowerCase()),
    format: ([f, ...args]) => text(f).replace(/\{(\d+)\}/g, (_, i: string) => text(args[Number(i)] ?? "")),
  };
  const value = (): Yaml => {
    space();
    if (source[at] === "'") {
      let out = "";
      at++;
      for (;;) {
        if (at >= source.length) fail("unterminated string");
        if (source[at] === "'" && source[at + 1] === "'") {
          out += "'";
          at += 2;
        } else if (source[at] === "'") break;
        else out += source[at++];
      }
      at++;
      return out;
    }
    const word = /^[A-Za-z_][\w.-]*/.exec(source.slice(at))?.[0] ?? fail("expected a value");
    at += word.length;
    space();
    if (source[at] === "(") {
      at++;
      const args: Yaml[] = [];
      space();
      while (source[at] !== ")") {
        args.push(value());
        space();
        if (source[at] === ",") at++;
        else if (source[at] !== ")") fail("expected , or )");
      }
      at++;
      const fn = functions[word] ?? fail(`unknown function ${word}`);
      return fn(args);
    }
    if (/^true$/i.test(word)) return true;
    if (/^false$/i.test(word)) return false;
    const [scope, ...keys] = word.split(".");
    if (scope !== "parameters") fail(`only parameters are known at compile time, not ${word}`);
    let v: Yaml = parameters;
    for (const k of keys) {
      if (!isMapping(v) || !(k in v)) fail(`no parameter ${word}`);
      v = (v as Mapping)[k];
    }
    return v;
  };
  const result = value();
  space();
  if (at !== source.length) fail("trailing text");
  return result;
}

const EXPRESSION = /\$\{\{(.*?)\}\}/g;

function interpolate(s: string, parameters: Mapping): Yaml {
  const whole = /^\$\{\{(.*)\}\}$/s.exec(s.trim());
  if (whole && !whole[1].includes("}}")) return evaluate(whole[1].trim(), parameters);
  return s.replace(EXPRESSION, (_, e: string) => {
    const v = evaluate(e.trim(), parameters);
    return typeof v === "boolean" ? (v ? "True" : "False") : typeof v === "string" ? v : JSON.stringify(v);
  });
}

// --- templates --------------------------------------------------------------------------------

interface Declared {
  name: string;
  type?: string;
  default?: Yaml;
  values?: string[];
}

/** Binds what a caller passes to what a template declares, as Azure DevOps does (or fails as it would). */
function bind(file: string, declared: Yaml | undefined, passed: Mapping): Mapping {
  const list = (Array.isArray(declared) ? declared : []) as unknown as Declared[];
  const bound: Mapping = {};
  for (const key of Object.keys(passed)) {
    if (!list.some((p) => p.name === key)) throw new Error(`${file}: unexpected parameter ${key}`);
  }
  for (const p of list) {
    const v = p.name in passed ? passed[p.name] : p.default;
    if (v === undefined) throw new Error(`${file}: a value for parameter ${p.name} must be provided`);
    if (p.values && !p.values.includes(String(v))) throw new Error(`${file}: ${p.name} must be one of ${p.values.join(", ")}, not ${String(v)}`);
    if (p.type === "boolean" && typeof v !== "boolean" && !/^(true|false)$/i.test(String(v))) throw new Error(`${file}: ${p.name} must be a boolean`);
    bound[p.name] = p.type === "boolean" ? /^true$/i.test(String(v)) : v;
  }
  return bound;
}

/** Where an if / elseif / else chain stands: none open, open with nothing taken yet, or taken. */
type Chain = "none" | "open" | "taken";

function nextChain(kind: string, take: boolean, before: Chain): Chain {
  if (kind === "else") return "none";
  return take || before === "taken" ? "taken" : "open";
}

const DIRECTIVE = /^\$\{\{\s*(if|elseif|else)\b(.*)\}\}$/s;

/** Expands one node of a template: expressions, conditional insertion and template references. */
function expand(node: Yaml, parameters: Mapping, file: string, used: Set<string>): Yaml {
  if (typeof node === "string") return interpolate(node, parameters);
  if (Array.isArray(node)) {
    const out: Yaml[] = [];
    let chain: Chain = "none";
    for (const item of node) {
      const keys = isMapping(item) ? Object.keys(item) : [];
      const directive = keys.length === 1 ? DIRECTIVE.exec(keys[0]) : null;
      if (isMapping(item) && directive) {
        const [, kind, condition] = directive;
        const before: Chain = kind === "if" ? "open" : chain;
        if (before === "none") throw new Error(`${file}: ${kind} without an if before it`);
        const take: boolean = before === "open" && (kind === "else" || Boolean(evaluate(condition.trim(), parameters)));
        chain = nextChain(kind, take, before);
        if (take) {
          const inserted = expand(item[keys[0]], parameters, file, used);
          out.push(...(Array.isArray(inserted) ? inserted : [inserted]));
        }
        continue;
      }
      chain = "none";
      if (isMapping(item) && typeof item.template === "string") {
        out.push(...include(item, parameters, file, used));
        continue;
      }
      out.push(expand(item, parameters, file, used));
    }
    return out;
  }
  if (isMapping(node)) {
    const out: Mapping = {};
    for (const [key, value] of Object.entries(node)) {
      const directive = DIRECTIVE.exec(key);
      if (directive) {
        if (directive[1] !== "if") throw new Error(`${file}: ${directive[1]} in a mapping is not supported here`);
        if (evaluate(directive[2].trim(), parameters)) Object.assign(out, expand(value, parameters, file, used));
        continue;
      }
      out[String(interpolate(key, parameters))] = expand(value, parameters, file, used);
    }
    return out;
  }
  return node;
}

/** A `- template:` item: its steps, jobs or stages, expanded with the parameters it is given. */
function include(item: Mapping, parameters: Mapping, from: string, used: Set<string>): Yaml[] {
  const file = path.resolve(path.dirname(from), String(interpolate(String(item.template), parameters)));
  assert.ok(fs.existsSync(file), `${path.relative(ROOT, from)} uses a template that does not exist: ${path.relative(ROOT, file)}`);
  used.add(file);
  const passed = expand(item.parameters ?? {}, parameters, from, used);
  assert.ok(isMapping(passed));
  const template = load(file);
  const bound = bind(path.relative(ROOT, file), template.parameters, passed);
  const kinds = ["steps", "jobs", "stages"].filter((k) => k in template);
  assert.equal(kinds.length, 1, `${file} must hold exactly one of steps, jobs, stages`);
  const body = expand(template[kinds[0]], bound, file, used);
  assert.ok(Array.isArray(body));
  return body;
}

interface Pipeline {
  file: string;
  raw: Mapping;
  /** The pipeline as it runs: extends resolved, templates expanded, runtime parameters at their defaults. */
  expanded: Mapping;
  templates: Set<string>;
}

/** A pipeline or template body without its parameter declarations. */
function withoutParameters(doc: Mapping): Mapping {
  return Object.fromEntries(Object.entries(doc).filter(([key]) => key !== "parameters"));
}

function pipeline(name: string): Pipeline {
  const file = path.join(PIPELINES, name);
  const raw = load(file);
  const used = new Set<string>();
  const parameters = bind(name, raw.parameters, {});
  let expanded: Mapping;
  if (isMapping(raw.extends)) {
    const target = path.resolve(PIPELINES, String(raw.extends.template));
    used.add(target);
    const template = load(target);
    const passed = expand(raw.extends.parameters ?? {}, parameters, file, used);
    assert.ok(isMapping(passed));
    const bound = bind(path.relative(ROOT, target), template.parameters, passed);
    const result = expand(withoutParameters(template), bound, target, used);
    assert.ok(isMapping(result));
    expanded = result;
  } else {
    const result = expand(withoutParameters(raw), parameters, file, used);
    assert.ok(isMapping(result));
    expanded = result;
  }
  return { file, raw, expanded, templates: used };
}

// --- what runs --------------------------------------------------------------------------------

interface Job {
  name: string;
  deployment: boolean;
  environment?: Yaml;
  steps: Mapping[];
}
interface Stage {
  name: string;
  dependsOn: string[];
  condition?: Yaml;
  lockBehavior?: Yaml;
  jobs: Job[];
}

function stages(p: Pipeline): Stage[] {
  const list = p.expanded.stages;
  assert.ok(Array.isArray(list), `${p.file}: expected stages`);
  return list.map((s, i): Stage => {
    assert.ok(isMapping(s));
    const previous = i > 0 ? list[i - 1] : undefined;
    const dependsOn = s.dependsOn === undefined ? (isMapping(previous) ? [String(previous.stage)] : []) : ([] as Yaml[]).concat(s.dependsOn).map(String);
    const jobs = (Array.isArray(s.jobs) ? s.jobs : []).map((j): Job => {
      assert.ok(isMapping(j));
      const deployment = "deployment" in j;
      let steps: Yaml = j.steps ?? [];
      if (deployment) {
        const strategy = j.strategy;
        assert.ok(isMapping(strategy) && isMapping(strategy.runOnce) && isMapping(strategy.runOnce.deploy), "deployment jobs here use runOnce");
        steps = strategy.runOnce.deploy.steps ?? [];
      }
      assert.ok(Array.isArray(steps));
      return { name: String(j.deployment ?? j.job), deployment, environment: j.environment, steps: steps.filter(isMapping) };
    });
    return { name: String(s.stage), dependsOn, condition: s.condition, lockBehavior: s.lockBehavior, jobs };
  });
}

/** The shell text a step runs (script, bash, or an inline script task). */
function scriptOf(step: Mapping): string {
  const inputs = isMapping(step.inputs) ? step.inputs : {};
  return [step.script, step.bash, step.pwsh, inputs.inlineScript, inputs.script].filter((s) => typeof s === "string").join("\n");
}

const PULUMI_COMMAND = /\bpulumi\s+(preview|up|update|destroy|refresh|import|cancel|new)\b/g;

/** The Pulumi commands a step runs that read or change infrastructure. */
function pulumiCommands(step: Mapping): string[] {
  const out = [...scriptOf(step).matchAll(PULUMI_COMMAND)].map((m) => m[1]);
  if (typeof step.task === "string" && /^pulumi@/i.test(step.task) && isMapping(step.inputs)) out.push(String(step.inputs.command));
  return out;
}

const CHECKS = { lint: /\bnpm run lint\b/, typecheck: /\bnpm run typecheck\b/, test: /\bnpm (run )?test\b/ };

function runsAllChecks(steps: Mapping[]): boolean {
  return Object.values(CHECKS).every((re) => steps.some((s) => re.test(scriptOf(s))));
}

function allSteps(p: Pipeline): Mapping[] {
  return stages(p).flatMap((s) => s.jobs.flatMap((j) => j.steps));
}

// --- triggers and path filters ----------------------------------------------------------------

interface Filter {
  include?: string[];
  exclude?: string[];
}

/**
 * Azure Pipelines' path filters: relative to the repository root, case-sensitive; a filter without
 * wildcards is a prefix (a folder and everything under it, or that file); `*` and `?` stay within one
 * path segment and `**` spans any number; an exclude wins over an include; no include means all.
 */
export function pathMatches(filter: string, file: string): boolean {
  const f = filter.replace(/^\/+/, "").replace(/\/+$/, "");
  if (!/[*?]/.test(f)) return f === "" || file === f || file.startsWith(`${f}/`);
  const re = f
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => (part === "**/" ? "(?:.*/)?" : part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${re}$`).test(file);
}

export function filterMatches(filter: Filter | undefined, changed: string[]): boolean {
  const include = filter?.include?.length ? filter.include : [""];
  const exclude = filter?.exclude ?? [];
  return changed.some((file) => include.some((f) => pathMatches(f, file)) && !exclude.some((f) => pathMatches(f, file)));
}

function branchMatches(filter: Filter | undefined, branch: string): boolean {
  const name = branch.replace(/^refs\/heads\//, "");
  return filterMatches(
    filter && { include: filter.include?.map((b) => b.replace(/^refs\/heads\//, "")), exclude: filter.exclude?.map((b) => b.replace(/^refs\/heads\//, "")) },
    [name],
  );
}

type Event = { kind: "push" | "pr"; branch: string; changed: string[] };

/** Whether the pipeline's own trigger (`trigger:` for pushes, `pr:` for pull requests) starts a run. */
function runsOn(p: Pipeline, event: Event): boolean {
  const trigger = event.kind === "push" ? p.raw.trigger : p.raw.pr;
  if (trigger === undefined) return true; // the implied trigger: every branch, every path
  if (trigger === "none") return false;
  if (Array.isArray(trigger)) return branchMatches({ include: trigger.map(String) }, event.branch);
  assert.ok(isMapping(trigger));
  return branchMatches(trigger.branches as Filter | undefined, event.branch) && filterMatches(trigger.paths as Filter | undefined, event.changed);
}

// --- the tests ---------------------------------------------------------------------------------

const FILTERED_PATHS = ["api", "stack", "Pulumi*.yaml", "package*.json", "azure-pipelines"];
const RELEVANT_CHANGES = [
  "api/src/x.ts",
  "api/Dockerfile",
  "api/package-lock.json",
  "stack/index.ts",
  "Pulumi.yaml",
  "Pulumi.dev.yaml",
  "package.json",
  "package-lock.json",
  "azure-pipelines/templates/pulumi-steps.yml",
];
const IRRELEVANT_CHANGES = [["README.md"], ["docs/architecture.md"], ["README.md", "docs/setup.md", "bench/run.ts"], [".gitignore"]];

describe("azure-pipelines", () => {
  const pr = pipeline("pr.yml");
  const deploy = pipeline("deploy.yml");

  describe("path filter matcher", () => {
    it("treats a filter without wildcards as a prefix, by whole path segments", () => {
      assert.ok(pathMatches("api", "api/src/x.ts"));
      assert.ok(pathMatches("api/", "api/src/x.ts"));
      assert.ok(pathMatches("/api", "api/package-lock.json"));
      assert.ok(pathMatches("Pulumi.yaml", "Pulumi.yaml"));
      assert.ok(!pathMatches("api", "apis/x.ts"));
      assert.ok(!pathMatches("api", "README.md"));
    });

    it("keeps * and ? within one segment, lets ** span any, and is case-sensitive", () => {
      assert.ok(pathMatches("Pulumi*.yaml", "Pulumi.dev.yaml"));
      assert.ok(pathMatches("Pulumi*.yaml", "Pulumi.yaml"));
      assert.ok(!pathMatches("Pulumi*.yaml", "stack/Pulumi.dev.yaml"));
      assert.ok(!pathMatches("Pulumi*.yaml", "pulumi.dev.yaml"));
      assert.ok(pathMatches("package*.json", "package-lock.json"));
      assert.ok(!pathMatches("package*.json", "api/package.json"));
      assert.ok(pathMatches("docs/*", "docs/a.md"));
      assert.ok(!pathMatches("docs/*", "docs/sub/a.md"));
      assert.ok(pathMatches("docs/**", "docs/sub/a.md"));
      assert.ok(pathMatches("src/**/*.ts", "src/a.ts"));
      assert.ok(pathMatches("src/**/*.ts", "src/a/b/c.ts"));
      assert.ok(pathMatches("v?.txt", "v1.txt"));
    });

    it("lets an exclude win over an include, and includes everything when only excludes are given", () => {
      assert.ok(!filterMatches({ include: ["api"], exclude: ["api/README.md"] }, ["api/README.md"]));
      assert.ok(filterMatches({ include: ["api"], exclude: ["api/README.md"] }, ["api/README.md", "api/src/x.ts"]));
      assert.ok(filterMatches({ exclude: ["docs"] }, ["src/x.ts"]));
      assert.ok(!filterMatches({ exclude: ["docs"] }, ["docs/x.md"]));
      assert.ok(filterMatches(undefined, ["anything"]));
    });
  });

  describe("template expansion (the reader the tests rely on)", () => {
    const run = (text: string, parameters: Mapping) => expand(parse(text) as Yaml, parameters, "inline.yml", new Set());

    it("evaluates expressions, inserts if / elseif / else branches, and keeps runtime macros", () => {
      const doc = `
- script: echo \${{ parameters.a }} $(Build.BuildId)
- \${{ if eq(parameters.a, 'x') }}:
  - script: first
- \${{ elseif ne(parameters.b, false) }}:
  - script: second
- \${{ else }}:
  - script: third
- \${{ if and(parameters.b, not(eq(parameters.a, 'X'))) }}:
  - script: fourth
`;
      assert.deepEqual(run(doc, { a: "x", b: true }), [{ script: "echo x $(Build.BuildId)" }, { script: "first" }]);
      assert.deepEqual(run(doc, { a: "y", b: true }), [{ script: "echo y $(Build.BuildId)" }, { script: "second" }, { script: "fourth" }]);
      assert.deepEqual(run(doc, { a: "y", b: false }), [{ script: "echo y $(Build.BuildId)" }, { script: "third" }]);
    });

    it("rejects what Azure DevOps would reject: unknown parameters, values outside the list, missing ones", () => {
      const declared = parse("[{name: command, type: string, values: [preview, up]}, {name: stack, type: string}]") as Yaml;
      assert.throws(() => bind("t.yml", declared, { command: "destroy", stack: "dev" }), /must be one of/);
      assert.throws(() => bind("t.yml", declared, { command: "up" }), /stack must be provided/);
      assert.throws(() => bind("t.yml", declared, { command: "up", stack: "dev", extra: "1" }), /unexpected parameter extra/);
      assert.deepEqual(bind("t.yml", declared, { command: "up", stack: "dev" }), { command: "up", stack: "dev" });
    });
  });

  describe("triggers", () => {
    it("pr.yml runs for pull requests into main only, never on pushes", () => {
      assert.equal(pr.raw.trigger, "none");
      assert.ok(isMapping(pr.raw.pr));
      assert.deepEqual((pr.raw.pr.branches as Filter).include, ["main"]);
      assert.deepEqual((pr.raw.pr.paths as Filter).include, FILTERED_PATHS);
      assert.ok(runsOn(pr, { kind: "pr", branch: "main", changed: ["api/src/x.ts"] }));
      assert.ok(!runsOn(pr, { kind: "pr", branch: "release", changed: ["api/src/x.ts"] }));
      assert.ok(!runsOn(pr, { kind: "push", branch: "main", changed: ["api/src/x.ts"] }));
    });

    it("deploy.yml runs for pushes to main only, batched, never for pull requests", () => {
      assert.equal(deploy.raw.pr, "none");
      assert.ok(isMapping(deploy.raw.trigger));
      assert.match(String(deploy.raw.trigger.batch), /^true$/i);
      assert.deepEqual((deploy.raw.trigger.branches as Filter).include, ["main"]);
      assert.deepEqual((deploy.raw.trigger.paths as Filter).include, FILTERED_PATHS);
      assert.ok(runsOn(deploy, { kind: "push", branch: "refs/heads/main", changed: ["stack/index.ts"] }));
      assert.ok(!runsOn(deploy, { kind: "push", branch: "feature/x", changed: ["stack/index.ts"] }));
      assert.ok(!runsOn(deploy, { kind: "pr", branch: "main", changed: ["stack/index.ts"] }));
    });

    for (const file of RELEVANT_CHANGES) {
      it(`a change to ${file} starts both pipelines`, () => {
        assert.ok(runsOn(pr, { kind: "pr", branch: "main", changed: [file] }));
        assert.ok(runsOn(deploy, { kind: "push", branch: "main", changed: [file] }));
      });
    }

    for (const changed of IRRELEVANT_CHANGES) {
      it(`a change to ${changed.join(", ")} alone starts nothing`, () => {
        assert.ok(!runsOn(pr, { kind: "pr", branch: "main", changed }));
        assert.ok(!runsOn(deploy, { kind: "push", branch: "main", changed }));
      });
    }

    it("every filtered path exists in the repository, so no filter is a typo", () => {
      const top = fs.readdirSync(ROOT);
      for (const filter of FILTERED_PATHS) {
        const hit = top.some((name) => pathMatches(filter, name) || pathMatches(filter, `${name}/x`));
        // Pulumi*.yaml arrives with the Pulumi program; the other filters must match now.
        if (filter !== "Pulumi*.yaml") assert.ok(hit, `nothing at the repository root matches ${filter}`);
      }
    });
  });

  describe("what runs", () => {
    it("the two pipelines share one template and differ only in the command", () => {
      for (const p of [pr, deploy]) {
        assert.ok(isMapping(p.raw.extends));
        assert.equal(p.raw.extends.template, "templates/pipeline.yml");
      }
      const { command: prCommand, ...prRest } = (pr.raw.extends as Mapping).parameters as Mapping;
      const { command: deployCommand, ...deployRest } = (deploy.raw.extends as Mapping).parameters as Mapping;
      assert.equal(prCommand, "preview");
      assert.equal(deployCommand, "up");
      assert.deepEqual(prRest, deployRest);
    });

    it("pull requests only preview: no `pulumi up`, no --yes, no deployment anywhere in pr.yml's run", () => {
      const commands = allSteps(pr).flatMap(pulumiCommands);
      assert.deepEqual(commands, ["preview"]);
      const text = JSON.stringify(pr.expanded);
      assert.doesNotMatch(text, /--yes\b/);
      assert.doesNotMatch(text, /\bpulumi\s+(up|update|destroy|refresh|import)\b/);
      assert.ok(stages(pr).every((s) => s.jobs.every((j) => !j.deployment)));
      assert.match(allSteps(pr).map(scriptOf).join("\n"), /pulumi preview --stack "\$STACK" --diff --non-interactive\s/);
    });

    it("main only runs `pulumi up --yes`, in a deployment job bound to an environment, one run at a time", () => {
      const commands = allSteps(deploy).flatMap(pulumiCommands);
      assert.deepEqual(commands, ["up"]);
      assert.match(allSteps(deploy).map(scriptOf).join("\n"), /pulumi up --stack "\$STACK" --diff --non-interactive --yes\s/);
      const deployStages = stages(deploy).filter((s) => s.jobs.some((j) => j.steps.some((st) => pulumiCommands(st).length > 0)));
      assert.equal(deployStages.length, 1);
      const [stage] = deployStages;
      assert.equal(stage.lockBehavior, "sequential");
      for (const job of stage.jobs) {
        assert.ok(job.deployment, `${job.name} must be a deployment job`);
        assert.ok(typeof job.environment === "string" && job.environment.length > 0, "the deployment job names an environment");
      }
    });

    for (const name of ["pr.yml", "deploy.yml"]) {
      it(`${name} runs lint, type-check and tests before any Pulumi command`, () => {
        const p = name === "pr.yml" ? pr : deploy;
        const all = stages(p);
        const byName = new Map(all.map((s) => [s.name, s]));
        const upstream = (s: Stage, seen = new Set<string>()): Stage[] =>
          s.dependsOn.flatMap((d) => {
            if (seen.has(d)) return [];
            seen.add(d);
            const dep = byName.get(d);
            assert.ok(dep, `${s.name} depends on an unknown stage ${d}`);
            return [dep, ...upstream(dep, seen)];
          });
        let pulumiStages = 0;
        for (const stage of all) {
          for (const job of stage.jobs) {
            const first = job.steps.findIndex((s) => pulumiCommands(s).length > 0);
            if (first < 0) continue;
            pulumiStages++;
            const checkedEarlierInJob = runsAllChecks(job.steps.slice(0, first));
            const checkedUpstream = upstream(stage).some((u) => u.condition === undefined && u.jobs.some((j) => runsAllChecks(j.steps)));
            assert.ok(checkedEarlierInJob || checkedUpstream, `${stage.name}/${job.name} runs Pulumi without the checks first`);
            assert.equal(stage.condition, undefined, `${stage.name} must not override the default condition (succeeded())`);
          }
        }
        assert.equal(pulumiStages, 1);
      });
    }

    it("installs from the lockfiles with Node 24 and an npm cache keyed on both lockfiles", () => {
      for (const p of [pr, deploy]) {
        for (const job of stages(p).flatMap((s) => s.jobs)) {
          const node = job.steps.find((s) => s.task === "NodeTool@0");
          assert.ok(node && isMapping(node.inputs) && node.inputs.versionSpec === "24.x", `${job.name}: NodeTool@0 24.x`);
          const cache = job.steps.find((s) => s.task === "Cache@2");
          assert.ok(cache && isMapping(cache.inputs));
          assert.match(String(cache.inputs.key), /\| package-lock\.json \| api\/package-lock\.json/);
          const install = job.steps.find((s) => /\bnpm ci\b/.test(scriptOf(s)));
          assert.ok(install && isMapping(install.env) && install.env.npm_config_cache === cache.inputs.path, `${job.name}: npm ci uses the cached folder`);
          assert.ok(job.steps.indexOf(cache) < job.steps.indexOf(install));
        }
      }
    });

    it("authenticates to Azure with the service connection's federated token, never a client secret", () => {
      for (const p of [pr, deploy]) {
        const steps = allSteps(p).filter((s) => pulumiCommands(s).length > 0);
        for (const step of steps) {
          assert.equal(step.task, "AzureCLI@2");
          assert.ok(isMapping(step.inputs));
          assert.match(String(step.inputs.addSpnToEnvironment), /^true$/i);
          assert.ok(String(step.inputs.azureSubscription).length > 0);
          const script = scriptOf(step);
          for (const line of ["ARM_USE_OIDC=true", 'ARM_CLIENT_ID="$servicePrincipalId"', 'ARM_TENANT_ID="$tenantId"', 'ARM_OIDC_TOKEN="$idToken"', "ARM_SUBSCRIPTION_ID"]) {
            assert.ok(script.includes(line), `the Pulumi step sets ${line}`);
          }
        }
        assert.doesNotMatch(JSON.stringify(p.expanded), /ARM_CLIENT_SECRET|servicePrincipalKey/);
      }
    });

    it("maps every secret variable into env: explicitly and never writes one inline", () => {
      const secrets = ["PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"];
      for (const p of [pr, deploy]) {
        for (const step of allSteps(p)) {
          const script = scriptOf(step);
          for (const s of secrets) assert.ok(!script.includes(`$(${s})`), `a script must read ${s} from env, not $(${s})`);
          if (pulumiCommands(step).length === 0) continue;
          assert.ok(isMapping(step.env));
          for (const s of secrets) assert.equal(step.env[s], `$(${s})`);
          assert.equal(step.env.SYSTEM_ACCESSTOKEN, "$(System.AccessToken)");
        }
      }
    });

    it("publishes the stack outputs from main only, as output variables and in the run summary, secrets hidden", () => {
      const publishes = (p: Pipeline) =>
        allSteps(p).some((s) => isMapping(s.env) && /^true$/i.test(String(s.env.PUBLISH_OUTPUTS)));
      assert.ok(publishes(deploy));
      assert.ok(!publishes(pr));
      const script = allSteps(deploy).map(scriptOf).join("\n");
      assert.match(script, /pulumi stack output --stack "\$STACK" --json/);
      assert.doesNotMatch(script, /pulumi stack output[^\n]*--show-secrets/);
      assert.match(script, /##vso\[task\.uploadsummary\]/);
      assert.match(script, /##vso\[task\.setvariable variable=.*;isOutput=true\]/);
    });

    it("pins the Pulumi CLI to the SDK version in package.json", () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
      const sdk = pkg.dependencies["@pulumi/pulumi"].replace(/^[\^~]/, "");
      for (const p of [pr, deploy]) {
        const install = allSteps(p).find((s) => /get\.pulumi\.com/.test(scriptOf(s)));
        assert.ok(install && isMapping(install.env), "a step installs the Pulumi CLI");
        assert.equal(install.env.PULUMI_VERSION, sdk);
      }
    });

    it("uses every template in templates/, and only templates that exist", () => {
      const all = fs.readdirSync(path.join(PIPELINES, "templates")).filter((f) => /\.ya?ml$/.test(f));
      const used = new Set([...pr.templates, ...deploy.templates].map((f) => path.basename(f)));
      assert.deepEqual(all.filter((f) => !used.has(f)), []);
    });
  });
});
