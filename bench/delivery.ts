/**
 * `npm run bench -- --only delivery`: the delivery's commands under Pulumi's engine, on the local platform
 * (docs/local-platform.md): a cold `pulumi up` (empty stack, the Docker engine's build cache emptied), a
 * no-op `pulumi preview`, a no-op `pulumi up`, an `up` after a stack-only change (logLevel) and an `up`
 * after a change in api/src (until every new pod is ready: the kubernetes provider's await). Each is
 * timed as a user's command, `runs` times, and split by the engine's own events into the image build,
 * its push, the Deployment's rollout and the rest (the engine: the program's compile and run, the
 * providers, the other resources). Needs root, `pulumi` on PATH and the platform (started if not up;
 * `npm run platform -- down` afterwards).
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { DOCKER, dockerEnv } from "../platform/docker-engine.js";
import { run } from "../platform/processes.js";
import { median } from "./coldstart.js";
import type { UpdateResult } from "../e2e/testing/pulumi.js";
import { Scenario } from "../e2e/testing/scenario.js";

export interface Timing {
  /** The command's wall-clock time. */
  totalS: number;
  /** `Starting Docker build` to `Pushing Image to the registry` (the docker provider's status lines). */
  buildS: number;
  /** The push, to the image's outputs. */
  pushS: number;
  /** The Deployment's update or create, to its outputs: the rollout, awaited by the kubernetes provider. */
  rolloutS: number;
  /** The rest: the CLI, the language host compiling and running the program, the providers, the other resources. */
  engineS: number;
}

export interface DeliveryStep {
  step: string;
  runs: Timing[];
  median: Timing;
}

export interface DeliveryResult {
  runs: number;
  steps: DeliveryStep[];
}

/** The phases of an `up`, from its engine events (their timestamps are whole seconds). */
export function phases(result: UpdateResult | undefined, totalS: number): Timing {
  const events = result?.events ?? [];
  const at = (test: (e: (typeof events)[number]) => boolean | undefined) => events.find(test)?.timestamp;
  const changing = (m: { op: string } | undefined) => m !== undefined && m.op !== "same";
  const buildStart = at((e) => e.diagnosticEvent?.message.startsWith("Starting Docker build"));
  const pushStart = at((e) => e.diagnosticEvent?.message.startsWith("Pushing Image to the registry"));
  const imageDone = at((e) => e.resOutputsEvent?.metadata.type === "docker:index/image:Image" && changing(e.resOutputsEvent.metadata));
  const isDeployment = (m: { type: string; op: string } | undefined) => m?.type === "kubernetes:apps/v1:Deployment" && changing(m);
  const rolloutStart = at((e) => isDeployment(e.resourcePreEvent?.metadata));
  const rolloutDone = at((e) => isDeployment(e.resOutputsEvent?.metadata));
  const span = (from?: number, to?: number) => (from !== undefined && to !== undefined ? to - from : 0);
  const buildS = span(buildStart, pushStart);
  const pushS = span(pushStart, imageDone);
  const rolloutS = span(rolloutStart, rolloutDone);
  return { totalS, buildS, pushS, rolloutS, engineS: Math.max(0, totalS - buildS - pushS - rolloutS) };
}

async function timed<T>(action: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const start = process.hrtime.bigint();
  const value = await action();
  return { value, seconds: Number(process.hrtime.bigint() - start) / 1e9 };
}

function summarise(step: string, runs: Timing[]): DeliveryStep {
  const keys = ["totalS", "buildS", "pushS", "rolloutS", "engineS"] as const;
  return { step, runs, median: Object.fromEntries(keys.map((k) => [k, median(runs.map((r) => r[k]))])) as unknown as Timing };
}

/** Empties the platform's Docker engine of build cache and images: the next build starts from nothing. */
async function emptyBuildCache(): Promise<void> {
  await run(DOCKER, ["builder", "prune", "--all", "--force"], { env: dockerEnv() });
  await run(DOCKER, ["image", "prune", "--all", "--force"], { env: dockerEnv() });
}

export async function runDelivery(options: { runs?: number; log?: (line: string) => void } = {}): Promise<DeliveryResult> {
  const runs = options.runs ?? 3;
  const log = options.log ?? ((line: string) => console.log(line));
  const scenario = new Scenario("bench-delivery");
  const steps: DeliveryStep[] = [];
  const measure = async (step: string, before: (i: number) => Promise<void>, command: () => Promise<UpdateResult | undefined>, after?: (i: number) => Promise<void>) => {
    const timings: Timing[] = [];
    for (let i = 0; i < runs; i++) {
      await before(i);
      const { value, seconds } = await timed(command);
      timings.push(phases(value, seconds));
      log(`  ${step}, run ${i + 1}: ${seconds.toFixed(1)} s`);
      if (after && i < runs - 1) await after(i);
    }
    steps.push(summarise(step, timings));
  };
  try {
    const deployer = await scenario.start();
    const helloworld = path.join(deployer.checkout, "api/src/jobs/helloworld.ts");
    await measure("cold up (empty stack, empty build cache)", emptyBuildCache, () => deployer.up(), async () => void (await deployer.destroy()));
    await measure("no-op preview", async () => undefined, async () => void (await deployer.preview()));
    await measure("no-op up", async () => undefined, () => deployer.up());
    await measure("up after a stack-only change (logLevel)", (i) => scenario.configure({ logLevel: i % 2 === 0 ? "debug" : "info" }), () => deployer.up());
    await measure("up after an api/src change (to every new pod ready)", async (i) => fs.appendFileSync(helloworld, `\n// bench: change ${i + 1}\n`), () => deployer.up());
  } finally {
    await scenario.end();
  }
  return { runs, steps };
}

/** The table `npm run bench` prints. */
export function deliveryTable(result: DeliveryResult): string[][] {
  const s = (n: number) => n.toFixed(1);
  return [
    ["step", `runs (s)`, "median s", "build", "push", "rollout", "engine"],
    ...result.steps.map((x) => [x.step, x.runs.map((r) => s(r.totalS)).join(", "), s(x.median.totalS), s(x.median.buildS), s(x.median.pushS), s(x.median.rolloutS), s(x.median.engineS)]),
  ];
}
