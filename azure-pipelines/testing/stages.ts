// What an expanded pipeline runs, for the pipelines' tests (pipelines.test.ts): its stages, jobs and
// steps, the shell text and the Pulumi commands of a step, and whether a stage runs.
import { strict as assert } from "node:assert";

import { evaluate, isMapping, type Mapping, type Pipeline, type Runtime, type Yaml } from "./templates.js";

export interface Job {
  name: string;
  deployment: boolean;
  environment?: Yaml;
  steps: Mapping[];
}
export interface Stage {
  name: string;
  dependsOn: string[];
  condition?: Yaml;
  lockBehavior?: Yaml;
  jobs: Job[];
}

export function stages(p: Pipeline): Stage[] {
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
export function scriptOf(step: Mapping): string {
  const inputs = isMapping(step.inputs) ? step.inputs : {};
  return [step.script, step.bash, step.pwsh, inputs.inlineScript, inputs.script].filter((s) => typeof s === "string").join("\n");
}

const PULUMI_COMMAND = /\bpulumi\s+(preview|up|update|destroy|refresh|import|cancel|new)\b/g;

/** The Pulumi commands a step runs that read or change infrastructure. */
export function pulumiCommands(step: Mapping): string[] {
  const out = [...scriptOf(step).matchAll(PULUMI_COMMAND)].map((m) => m[1]);
  if (typeof step.task === "string" && /^pulumi@/i.test(step.task) && isMapping(step.inputs)) out.push(String(step.inputs.command));
  return out;
}

const CHECKS = { lint: /\bnpm run lint\b/, typecheck: /\bnpm run typecheck\b/, test: /\bnpm (run )?test\b/ };

export function runsAllChecks(steps: Mapping[]): boolean {
  return Object.values(CHECKS).every((re) => steps.some((s) => re.test(scriptOf(s))));
}

export function allSteps(p: Pipeline): Mapping[] {
  return stages(p).flatMap((s) => s.jobs.flatMap((j) => j.steps));
}


/** Whether a stage runs, as Azure Pipelines decides it: its condition, or succeeded() without one. */
export function stageRuns(stage: Stage, runtime: Runtime): boolean {
  if (stage.condition === undefined) return runtime.dependenciesSucceeded;
  return Boolean(evaluate(String(stage.condition), {}, runtime));
}
