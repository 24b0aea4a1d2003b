// The Azure Pipelines, read as Azure DevOps would: the YAML is parsed, the templates it uses are
// expanded with their parameters (compile-time `${{ }}` expressions included), and the result is
// checked: the triggers and path filters, that pull requests only preview and main only runs
// `pulumi up`, and that lint, type-check and tests pass before any Pulumi command. The reader is in
// testing/ (templates.ts, stages.ts, triggers.ts), as is the run of the Pulumi step's script.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { parse } from "yaml";

import { runPulumiStep } from "./testing/pulumi-step.js";
import { checkReads, programReads, repositoryFiles, ROOT } from "./testing/reads.js";
import { allSteps, pulumiCommands, runsAllChecks, scriptOf, stageRuns, stages, type Stage } from "./testing/stages.js";
import { bind, evaluate, expand, isMapping, load, pipeline, PIPELINES, type Mapping, type Pipeline, type Runtime, type Yaml } from "./testing/templates.js";
import { CLOSED, threadsServer, TOKEN } from "./testing/threads-server.js";
import { filterMatches, pathMatches, runsOn, type Filter } from "./testing/triggers.js";

/** What a change to main must deploy: everything the program and the image read (checked below). */
const DEPLOY_PATHS = ["api", "stack", "azure-pipelines", "Pulumi*.yaml", "package*.json", "tsconfig.json"];
/** What a pull request must check: the same, and everything lint, type-check and the tests read. */
const PR_PATHS = [...DEPLOY_PATHS, "tools", "bench", "docs", "platform", "e2e", ".mocharc.json", "eslint.config.mjs", ".ci"];
/**
 * Read by the checks, yet no trigger, on purpose: the project's rule is that a README-only change
 * runs nothing. A broken link in it is caught by the next run that does start.
 */
const NOT_A_TRIGGER = new Set(["README.md"]);
/** Read by neither the checks nor the program (CI's own entry point is named by issue 16: it runs the checks). */
const CHECKED_BESIDES = new Set([".ci/run"]);

const IRRELEVANT_CHANGES = [["README.md"], [".gitignore"], ["README.md", ".gitignore"]];

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

    it("inserts if / else branches into mappings too", () => {
      const doc = `
common: 1
\${{ if eq(parameters.a, 'x') }}:
  only: x
\${{ else }}:
  only: other
`;
      assert.deepEqual(run(doc, { a: "x" }), { common: 1, only: "x" });
      assert.deepEqual(run(doc, { a: "y" }), { common: 1, only: "other" });
    });

    it("evaluates runtime conditions against variables and the dependencies' outcome", () => {
      const main = { variables: { "Build.SourceBranch": "refs/heads/main" }, dependenciesSucceeded: true };
      const condition = "and(succeeded(), eq(variables['Build.SourceBranch'], 'refs/heads/main'))";
      assert.equal(evaluate(condition, {}, main), true);
      assert.equal(evaluate(condition, {}, { ...main, dependenciesSucceeded: false }), false);
      assert.equal(evaluate(condition, {}, { ...main, variables: { "Build.SourceBranch": "refs/heads/feature" } }), false);
      assert.throws(() => evaluate(condition, {}), /runtime/);
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
      assert.deepEqual([...((pr.raw.pr.paths as Filter).include ?? [])].sort(), [...PR_PATHS].sort());
      assert.ok(runsOn(pr, { kind: "pr", branch: "main", changed: ["api/src/x.ts"] }));
      assert.ok(!runsOn(pr, { kind: "pr", branch: "release", changed: ["api/src/x.ts"] }));
      assert.ok(!runsOn(pr, { kind: "push", branch: "main", changed: ["api/src/x.ts"] }));
    });

    // Issue 12 point 7: with `batch`, a run waiting for approval held back even the checks of later
    // pushes; the environment's exclusive lock with lockBehavior: sequential already serialises deploys.
    it("deploy.yml runs for every push to main, unbatched, never for pull requests", () => {
      assert.equal(deploy.raw.pr, "none");
      assert.ok(isMapping(deploy.raw.trigger));
      assert.equal(deploy.raw.trigger.batch, undefined);
      assert.deepEqual((deploy.raw.trigger.branches as Filter).include, ["main"]);
      assert.deepEqual([...((deploy.raw.trigger.paths as Filter).include ?? [])].sort(), [...DEPLOY_PATHS].sort());
      assert.ok(runsOn(deploy, { kind: "push", branch: "refs/heads/main", changed: ["stack/index.ts"] }));
      assert.ok(!runsOn(deploy, { kind: "push", branch: "feature/x", changed: ["stack/index.ts"] }));
      assert.ok(!runsOn(deploy, { kind: "pr", branch: "main", changed: ["stack/index.ts"] }));
    });

    // Issue 12 point 5: derived from Pulumi.yaml, the program's imports and stack/image.ts.
    it("every file the Pulumi program and the image read starts both pipelines", () => {
      const reads = programReads();
      assert.ok(reads.has("stack/index.ts") && reads.has("tsconfig.json") && reads.has("api/Dockerfile"), "the derivation finds the obvious");
      const missed = [...reads].filter(([f]) => !runsOn(deploy, { kind: "push", branch: "main", changed: [f] }) || !runsOn(pr, { kind: "pr", branch: "main", changed: [f] }));
      assert.deepEqual(missed, []);
    });

    // Issue 16 point 7: derived from the lint, typecheck and test scripts and their configuration.
    it("every file lint, type-check or the tests read starts the pull-request pipeline", async function () {
      this.timeout(60_000);
      const reads = await checkReads();
      assert.ok(reads.has("tools/adf-emulator.test.ts") || [...reads.keys()].some((f) => f.startsWith("tools/")), "the derivation finds tools/");
      assert.ok(reads.has(".mocharc.json") && reads.has("eslint.config.mjs"));
      const missed = [...reads].filter(([f]) => !NOT_A_TRIGGER.has(f) && !runsOn(pr, { kind: "pr", branch: "main", changed: [f] }));
      assert.deepEqual(missed, []);
    });

    it("no path filter matches only files that nothing reads (each one is there for a reason)", async function () {
      this.timeout(60_000);
      const files = repositoryFiles();
      // What a run reads besides: its own pipeline file and the templates it expands.
      const pipelineFiles = (p: Pipeline) => [p.file, ...p.templates].map((f) => path.relative(ROOT, f).split(path.sep).join("/"));
      const program = [...programReads(files).keys(), ...pipelineFiles(deploy), ...pipelineFiles(pr)];
      const checked = [...(await checkReads(files)).keys(), ...CHECKED_BESIDES];
      for (const filter of DEPLOY_PATHS) assert.ok(program.some((f) => pathMatches(filter, f)), `deploy.yml: nothing the program reads is under ${filter}`);
      for (const filter of PR_PATHS) assert.ok([...program, ...checked].some((f) => pathMatches(filter, f)), `pr.yml: nothing checked is under ${filter}`);
    });

    for (const changed of IRRELEVANT_CHANGES) {
      it(`a change to ${changed.join(", ")} alone starts nothing`, () => {
        assert.ok(!runsOn(pr, { kind: "pr", branch: "main", changed }));
        assert.ok(!runsOn(deploy, { kind: "push", branch: "main", changed }));
      });
    }

    it("a change the checks read but the program does not starts the pull-request pipeline only", () => {
      for (const file of ["tools/adf-emulator/cli.ts", "bench/run.ts", "docs/ci-cd.md", ".mocharc.json", "eslint.config.mjs", ".ci/run"]) {
        assert.ok(runsOn(pr, { kind: "pr", branch: "main", changed: [file] }), file);
        assert.ok(!runsOn(deploy, { kind: "push", branch: "main", changed: [file] }), file);
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

    // Issue 12 point 1.
    describe("only main deploys", () => {
      const deployStage = () => {
        const found = stages(deploy).find((s) => s.jobs.some((j) => j.steps.some((st) => pulumiCommands(st).includes("up"))));
        assert.ok(found);
        return found;
      };
      const at = (branch: string, dependenciesSucceeded = true): Runtime => ({ variables: { "Build.SourceBranch": branch }, dependenciesSucceeded });

      it("the deploy stage runs for refs/heads/main once the checks passed, and for nothing else", () => {
        const stage = deployStage();
        assert.ok(stageRuns(stage, at("refs/heads/main")));
        assert.ok(!stageRuns(stage, at("refs/heads/main", false)), "not when the checks failed");
        for (const branch of ["refs/heads/feature/x", "refs/heads/main-old", "refs/heads/release/main", "refs/pull/7/merge", "refs/tags/v1", ""]) {
          assert.ok(!stageRuns(stage, at(branch)), `not for ${JSON.stringify(branch)} (a run queued by hand)`);
        }
      });

      it("a run queued by hand can pick only a stack from the list", () => {
        for (const p of ["deploy.yml", "pr.yml"]) {
          const raw = load(path.join(PIPELINES, p));
          const declared = (raw.parameters as Mapping[]).find((d) => d.name === "stack");
          assert.ok(declared && Array.isArray(declared.values) && declared.values.includes(String(declared.default)), `${p}: stack has values: with its default`);
          assert.throws(() => pipeline(p, { stack: "prod-typo" }), /stack must be one of/);
          assert.doesNotThrow(() => pipeline(p, { stack: String(declared.default) }));
        }
      });
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
            // A condition may narrow when the stage runs (only main deploys), never skip the checks' verdict.
            const main: Runtime = { variables: { "Build.SourceBranch": "refs/heads/main" }, dependenciesSucceeded: false };
            if (checkedUpstream) assert.ok(!stageRuns(stage, main), `${stage.name} must not run when the checks failed`);
          }
        }
        assert.equal(pulumiStages, 1);
      });
    }

    // Issue 12 point 2.
    it("previews run under their own service connection and variable group, never the deploy identity's", () => {
      const declared = load(path.join(PIPELINES, "templates", "pipeline.yml")).parameters as Mapping[];
      const def = (n: string) => declared.find((d) => d.name === n)?.default;
      assert.notEqual(def("previewServiceConnection"), def("serviceConnection"));
      assert.notEqual(def("previewVariableGroup"), def("variableGroup"));
      const connection = (p: Pipeline) => allSteps(p).filter((s) => pulumiCommands(s).length > 0).map((s) => (s.inputs as Mapping).azureSubscription);
      assert.deepEqual(connection(pr), [def("previewServiceConnection")]);
      assert.deepEqual(connection(deploy), [def("serviceConnection")]);
      const groups = (p: Pipeline) => JSON.stringify(p.expanded).match(/"group":"[^"]+"/g) ?? [];
      assert.deepEqual(groups(pr), [`"group":"${String(def("previewVariableGroup"))}"`]);
      assert.deepEqual(groups(deploy), [`"group":"${String(def("variableGroup"))}"`]);
      assert.equal(pr.expanded.variables, undefined, "no pipeline-wide variable group: only the Pulumi job gets one");
      // A pipeline that names its own connections gets the preview one in the preview, never the deploy one.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pipeline-"));
      try {
        const file = path.join(dir, "fork-pr.yml");
        const parameters = { command: "preview", stack: "dev", serviceConnection: "fork-deploy", previewServiceConnection: "fork-preview" };
        fs.writeFileSync(file, JSON.stringify({ trigger: "none", extends: { template: path.join(PIPELINES, "templates", "pipeline.yml"), parameters } }));
        const fork = pipeline(file);
        assert.deepEqual(connection(fork), ["fork-preview"]);
        assert.ok(!JSON.stringify(fork.expanded).includes("fork-deploy"));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it("docs/ci-cd.md names every list… function the program invokes, so the preview's least role stays documented", () => {
      const invoked = new Set<string>();
      for (const file of programReads().keys()) {
        if (!/^stack\/.*\.ts$/.test(file)) continue;
        for (const [, fn] of fs.readFileSync(path.join(ROOT, file), "utf8").matchAll(/\b(list[A-Z]\w*?)(?:Output)?\(/g)) invoked.add(fn);
      }
      assert.ok(invoked.has("listManagedClusterAdminCredentials") || invoked.size > 0, "the scan finds the program's invokes");
      const guide = fs.readFileSync(path.join(ROOT, "docs", "ci-cd.md"), "utf8");
      for (const fn of invoked) {
        assert.ok(guide.includes(`.${fn}\``), `docs/ci-cd.md's least-role table must name ${fn} and the Azure action the preview identity needs for it`);
      }
    });

    // Issue 12 point 4.
    it("installs from the lockfiles with Node 24 and an npm cache keyed on both lockfiles", () => {
      for (const p of [pr, deploy]) {
        for (const job of stages(p).flatMap((s) => s.jobs)) {
          const node = job.steps.find((s) => s.task === "NodeTool@0");
          assert.ok(node && isMapping(node.inputs) && node.inputs.versionSpec === "24.x", `${job.name}: NodeTool@0 24.x`);
          const cache = job.steps.find((s) => s.task === "Cache@2" && /^'?npm/.test(String((s.inputs as Mapping).key)));
          assert.ok(cache && isMapping(cache.inputs));
          assert.match(String(cache.inputs.key), /\| package-lock\.json \| api\/package-lock\.json/);
          const installs = job.steps.filter((s) => /\bnpm ci\b/.test(scriptOf(s)));
          assert.equal(installs.length, 1, `${job.name}: npm ci once`);
          const [install] = installs;
          assert.ok(isMapping(install.env) && install.env.npm_config_cache === cache.inputs.path, `${job.name}: npm ci uses the cached folder`);
          assert.ok(job.steps.indexOf(cache) < job.steps.indexOf(install));
        }
      }
    });

    it("runs npm ci once per pull request, and on main once more only because the deploy waits for approval on a fresh agent", () => {
      const installs = (p: Pipeline) => stages(p).flatMap((s) => s.jobs).flatMap((j) => j.steps).filter((s) => /\bnpm ci\b/.test(scriptOf(s))).length;
      assert.equal(installs(pr), 1);
      assert.equal(installs(deploy), 2);
    });

    it("caches the Pulumi plugins in both pipelines, keyed on the lockfile, and never the backend login", () => {
      for (const p of [pr, deploy]) {
        const job = stages(p).flatMap((s) => s.jobs).find((j) => j.steps.some((s) => pulumiCommands(s).length > 0));
        assert.ok(job);
        const cache = job.steps.find((s) => s.task === "Cache@2" && /pulumi/.test(String((s.inputs as Mapping).key)));
        assert.ok(cache && isMapping(cache.inputs), `${job.name}: a Cache@2 step for the Pulumi plugins`);
        assert.match(String(cache.inputs.key), /\| package-lock\.json'?$/);
        const step = job.steps.find((s) => pulumiCommands(s).length > 0) as Mapping;
        const home = String((step.env as Mapping).PULUMI_HOME);
        assert.equal(cache.inputs.path, `${home}/plugins`, "the cached folder is where the CLI keeps its plugins");
        assert.ok(job.steps.indexOf(cache) < job.steps.indexOf(step));
      }
    });

    // Issue 12 point 3 (long runs): the federated ID token lives 10 minutes; a fixed ARM_OIDC_TOKEN
    // cannot be renewed (azure-native only renews from GitHub's OIDC endpoint), the CLI session can.
    it("authenticates through the service connection's Azure CLI session, kept fresh, never a secret or a fixed token", () => {
      for (const p of [pr, deploy]) {
        const steps = allSteps(p).filter((s) => pulumiCommands(s).length > 0);
        for (const step of steps) {
          assert.equal(step.task, "AzureCLI@2");
          assert.ok(isMapping(step.inputs));
          assert.match(String(step.inputs.keepAzSessionActive), /^true$/i);
          assert.ok(String(step.inputs.azureSubscription).length > 0);
          const script = scriptOf(step);
          assert.match(script, /unset ARM_USE_OIDC ARM_OIDC_TOKEN ARM_CLIENT_SECRET AZURE_FEDERATED_TOKEN_FILE/);
          assert.doesNotMatch(script, /export ARM_OIDC_TOKEN|ARM_USE_OIDC=true|\$idToken/);
          assert.match(script, /ARM_SUBSCRIPTION_ID=/);
        }
        assert.doesNotMatch(JSON.stringify(p.expanded), /ARM_CLIENT_SECRET=|servicePrincipalKey/);
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
      const publishes = (p: Pipeline) => allSteps(p).some((s) => isMapping(s.env) && /^true$/i.test(String(s.env.PUBLISH_OUTPUTS)));
      assert.ok(publishes(deploy));
      assert.ok(!publishes(pr));
      const script = allSteps(deploy).map(scriptOf).join("\n");
      assert.match(script, /pulumi stack output --stack "\$STACK" --json/);
      assert.doesNotMatch(script, /pulumi stack output[^\n]*--show-secrets/);
      assert.match(script, /##vso\[task\.uploadsummary\]/);
      assert.match(script, /##vso\[task\.setvariable variable=.*;isOutput=true\]/);
    });

    // Issue 12 point 6 (the thread itself is tested against a real HTTP server in scripts/pr-comment.test.ts).
    it("posts the preview through pr-comment.ts, on pull requests only, and never fails the run for it", () => {
      const step = allSteps(pr).find((s) => pulumiCommands(s).length > 0) as Mapping;
      assert.match(String((step.env as Mapping).CREATE_PR_COMMENT), /^true$/i);
      const call = /node --import tsx (azure-pipelines\/scripts\/pr-comment\.ts) --command "\$COMMAND" --stack "\$STACK" --exit-code "\$status" --log "\$log" \\\n\s*\|\| echo "##vso\[task\.logissue type=warning\]/.exec(scriptOf(step));
      assert.ok(call, "the step runs the comment script and only warns when it fails");
      assert.ok(fs.existsSync(path.join(ROOT, call[1])));
      const deployStep = allSteps(deploy).find((s) => pulumiCommands(s).length > 0) as Mapping;
      assert.match(String((deployStep.env as Mapping).CREATE_PR_COMMENT), /^false$/i);
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

  // Issue 12 point 3 (first runs): the step's real script, run by bash with `pulumi` and `az` recorded.
  describe("registryAuth docker-login", function () {
    this.timeout(30_000);
    const DOCKER_LOGIN = { registryAuth: "docker-login" };

    it("refuses a first `pulumi up` whose registry does not exist yet, saying why, before running anything", async () => {
      const run = await runPulumiStep(deploy, { config: DOCKER_LOGIN });
      assert.equal(run.status, 1);
      assert.match(run.output, /##vso\[task\.logissue type=error\]registryAuth is docker-login, but the registry that this stack creates does not exist yet/);
      assert.ok(!run.calls.some((c) => /^pulumi up\b/.test(c)), "pulumi up never starts");
      assert.ok(!run.calls.some((c) => /^az acr login\b/.test(c)));
    });

    it("refuses as well when the configured registry is not there, and only warns in a preview", async () => {
      const up = await runPulumiStep(deploy, { config: { ...DOCKER_LOGIN, registryName: "myregistry01" } });
      assert.equal(up.status, 1);
      assert.match(up.output, /the registry myregistry01 does not exist yet/);
      const preview = await runPulumiStep(pr, { config: DOCKER_LOGIN });
      assert.equal(preview.status, 0, preview.output);
      assert.match(preview.output, /##vso\[task\.logissue type=warning\]registryAuth is docker-login/);
      assert.ok(preview.calls.some((c) => /^pulumi preview --stack dev\b/.test(c)));
    });

    it("logs Docker in to the registry the stack created before `pulumi up`, once it exists", async () => {
      const run = await runPulumiStep(deploy, { config: DOCKER_LOGIN, outputs: { registryName: "adfwebhook0123456789" }, registries: ["adfwebhook0123456789"] });
      assert.equal(run.status, 0, run.output);
      const login = run.calls.indexOf("az acr login --name adfwebhook0123456789");
      const up = run.calls.findIndex((c) => /^pulumi up --stack dev --diff --non-interactive --yes$/.test(c));
      assert.ok(login >= 0 && up > login, run.calls.join("\n"));
    });

    it("does no Docker login at all for the other registry modes, or a cluster by kubeconfig", async () => {
      const configs: Record<string, string>[] = [{}, { registryAuth: "admin" }, { registryAuth: "docker-login", target: "kubeconfig" }];
      for (const config of configs) {
        const run = await runPulumiStep(deploy, { config, outputs: { registryName: "adfwebhook0123456789" }, registries: ["adfwebhook0123456789"] });
        assert.equal(run.status, 0, run.output);
        assert.ok(!run.calls.some((c) => /^az acr/.test(c)), JSON.stringify(config));
        assert.ok(run.calls.some((c) => /^pulumi up\b/.test(c)));
      }
    });
  });

  // Issue 12 point 3 (long runs, with the stack's kubelogin option): kubelogin signs in with the
  // kept-alive CLI session; the modes that need a token file or a secret cannot here.
  describe("clusterCredentials through kubelogin", function () {
    this.timeout(30_000);

    it("installs kubelogin when it is missing and signs in with the Azure CLI session", async () => {
      const run = await runPulumiStep(deploy, { config: { clusterCredentials: "azurecli" } });
      assert.equal(run.status, 0, run.output);
      const install = run.calls.findIndex((c) => /^az aks install-cli --install-location \S+\/aks-tools\/kubectl --kubelogin-install-location \S+\/aks-tools\/kubelogin\b/.test(c));
      const up = run.calls.findIndex((c) => /^pulumi up\b/.test(c));
      assert.ok(install >= 0 && up > install, run.calls.join("\n"));
    });

    it("needs nothing for the admin kubeconfig, and refuses the modes that cannot sign in here", async () => {
      for (const clusterCredentials of ["admin", ""]) {
        const run = await runPulumiStep(deploy, { config: clusterCredentials ? { clusterCredentials } : {} });
        assert.equal(run.status, 0, run.output);
        assert.ok(!run.calls.some((c) => /^az aks/.test(c)));
      }
      for (const clusterCredentials of ["workloadidentity", "spn"]) {
        const run = await runPulumiStep(pr, { config: { clusterCredentials } });
        assert.equal(run.status, 1);
        assert.ok(run.output.includes(`##vso[task.logissue type=error]clusterCredentials is ${clusterCredentials}: in these pipelines use azurecli`), run.output);
        assert.ok(!run.calls.some((c) => /^pulumi preview\b/.test(c)));
      }
    });
  });

  // Issue 12 point 6, end to end: the step's script posts through pr-comment.ts to a threads API on 127.0.0.1.
  describe("the preview on the pull request", function () {
    this.timeout(60_000);
    let api: Awaited<ReturnType<typeof threadsServer>>;
    beforeEach(async () => {
      api = await threadsServer();
    });
    afterEach(async () => {
      await api.close();
    });
    const pullRequest = (extra: Record<string, string> = {}): Record<string, string> => ({
      BUILD_REASON: "PullRequest",
      BUILD_REPOSITORY_PROVIDER: "TfsGit",
      SYSTEM_ACCESSTOKEN: TOKEN,
      SYSTEM_COLLECTIONURI: api.pr.collectionUri,
      SYSTEM_TEAMPROJECTID: api.pr.projectId,
      BUILD_REPOSITORY_ID: api.pr.repositoryId,
      SYSTEM_PULLREQUEST_PULLREQUESTID: String(api.pr.pullRequestId),
      ...extra,
    });

    it("keeps one closed thread per pull request across runs, with the latest preview in it", async () => {
      for (let i = 0; i < 2; i++) {
        const run = await runPulumiStep(pr, { env: pullRequest() });
        assert.equal(run.status, 0, run.output);
        assert.ok(!run.output.includes(TOKEN), "the token never reaches the log");
      }
      assert.equal(api.threads.length, 1);
      assert.equal(api.threads[0].status, CLOSED);
      assert.equal(api.threads[0].comments.length, 1);
      assert.match(api.threads[0].comments[0].content, /^#### `pulumi preview` on `dev` \(exit code 0\)[\s\S]*\+ kubernetes:apps\/v1:Deployment api create/);
    });

    it("posts nothing when PULUMI_PR_COMMENT is false, or for a run that is not a pull request", async () => {
      const cases: Record<string, string>[] = [{ PULUMI_PR_COMMENT: "false" }, { BUILD_REASON: "Manual" }];
      for (const extra of cases) {
        const run = await runPulumiStep(pr, { env: pullRequest(extra) });
        assert.equal(run.status, 0, run.output);
      }
      assert.deepEqual(api.requests, []);
    });

    it("only warns when the thread cannot be posted, and keeps the preview's own exit code", async () => {
      const run = await runPulumiStep(pr, { env: pullRequest({ SYSTEM_ACCESSTOKEN: "not-allowed" }) });
      assert.equal(run.status, 0, run.output);
      assert.match(run.output, /##vso\[task\.logissue type=warning\]Could not post the preview on the pull request/);
      assert.equal(api.threads.length, 0);
    });
  });
});
