import * as assert from "node:assert/strict";

import { PATCH_FORCE_ANNOTATION, ROLLOUT_TIMEOUT_MINUTES } from "./rollout.js";
import { run, type Registration, type Run } from "./testing/harness.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

const PULUMI = "pulumi-kubernetes-a1b2c3"; // the provider's SSA field manager for this Deployment
const HPA = "kube-controller-manager"; // the HPA controller writes through the scale subresource
const DEFAULT_REPLICAS = 1; // what the API server defaults an unowned spec.replicas to

/** The live Deployment's spec.replicas and its field managers, as the API server keeps them. */
interface Live {
  replicas: number;
  owners: Set<string>;
}

const deploymentOf = (r: Run): Registration => r.one("kubernetes:apps/v1:Deployment");
const declared = (d: Registration): number | undefined => (d.inputs as any).spec.replicas;
const forced = (d: Registration): boolean => (d.inputs as any).metadata.annotations?.[PATCH_FORCE_ANNOTATION] === "true";

/** `pulumi up` creating the Deployment: a server-side apply of the declared object. */
function create(d: Registration): Live {
  const replicas = declared(d);
  return replicas === undefined ? { replicas: DEFAULT_REPLICAS, owners: new Set() } : { replicas, owners: new Set([PULUMI]) };
}

/**
 * `pulumi up` updating the Deployment from `old` to `next`, following the source:
 *  1. the engine resets ignored paths to the old inputs (pkg/resource/deploy/step_generator.go,
 *     processIgnoreChanges);
 *  2. pulumi-kubernetes drops an ignored field that another manager owns and we do not, or else sends
 *     its live value (provider/pkg/await/await.go, handleSSAIgnoreFields);
 *  3. the API server applies: a field we send that another manager owns with another value is a
 *     conflict unless forced (patchForce); a field we stop sending and nobody else owns is reset to
 *     its default.
 */
function update(live: Live, old: Registration, next: Registration): Live {
  const ignored = next.options.ignoreChanges.includes("spec.replicas");
  let replicas = ignored ? declared(old) : declared(next);
  if (ignored) {
    const theirs = [...live.owners].some((owner) => owner !== PULUMI);
    replicas = theirs && !live.owners.has(PULUMI) ? undefined : live.replicas;
  }
  if (replicas === undefined) {
    const owners = new Set([...live.owners].filter((owner) => owner !== PULUMI));
    return { replicas: owners.size === 0 ? DEFAULT_REPLICAS : live.replicas, owners };
  }
  const conflict = [...live.owners].some((owner) => owner !== PULUMI) && replicas !== live.replicas;
  if (conflict && !forced(next)) throw new Error("Server-Side Apply field conflict with kube-controller-manager: .spec.replicas");
  return { replicas, owners: conflict ? new Set([PULUMI]) : new Set([...live.owners, PULUMI]) };
}

/** The HPA controller scales (an Update: the field's only owner becomes kube-controller-manager). */
function hpaScales(live: Live, replicas: number): Live {
  return replicas === live.replicas ? live : { replicas, owners: new Set([HPA]) };
}

describe("replicas and the HPA under server-side apply (Pulumi mocks)", () => {
  const OFF = { replicas: "2" };
  const ON = { replicas: "2", hpaEnabled: "true", hpaMinReplicas: "3", hpaMaxReplicas: "8" };
  let off: Registration;
  let on: Registration;
  let onChanged: Registration; // another rollout (a new setting) while the HPA is on
  let offAgain: Registration;
  before(async () => {
    off = deploymentOf(await run(OFF));
    on = deploymentOf(await run(ON));
    onChanged = deploymentOf(await run({ ...ON, logLevel: "debug" }));
    offAgain = deploymentOf(await run(OFF));
  });

  it("declares replicas in every shape, ignores it with an HPA, and applies with force", () => {
    assert.equal(declared(off), 2);
    assert.equal(declared(on), 3, "the HPA's minimum when it is created with one");
    assert.deepEqual(off.options.ignoreChanges, []);
    assert.deepEqual(on.options.ignoreChanges, ["spec.replicas"]);
    assert.ok(forced(off) && forced(on));
  });

  it("turning the HPA on, before and after it scales, then off again: never one replica", () => {
    const seen: number[] = [];
    let live = create(off);
    seen.push(live.replicas);
    live = update(live, off, on); // HPA on; the HPA has not written replicas yet
    seen.push(live.replicas);
    assert.equal(live.replicas, 2, "the running count stays");
    live = update(live, on, onChanged); // a rollout before the HPA acts
    seen.push(live.replicas);
    live = hpaScales(live, 5);
    live = update(live, onChanged, on); // a rollout after it scaled: its count stays
    seen.push(live.replicas);
    assert.equal(live.replicas, 5);
    assert.ok(!live.owners.has(PULUMI), "the HPA owns replicas");
    live = update(live, on, offAgain); // HPA off: the configured count, taken back by force
    seen.push(live.replicas);
    assert.equal(live.replicas, 2);
    assert.deepEqual([...live.owners], [PULUMI]);
    assert.ok(Math.min(...seen) >= 2, `replicas over the transitions: ${seen.join(" -> ")}`);
  });

  it("created with the HPA on: starts at its minimum, keeps it until the HPA scales", () => {
    let live = create(on);
    assert.equal(live.replicas, 3);
    live = update(live, on, onChanged);
    assert.equal(live.replicas, 3);
  });

  it("the model catches the failure the issue describes: dropping replicas resets it to 1", () => {
    const dropped: Registration = { ...on, inputs: { ...on.inputs, spec: { ...(on.inputs as any).spec, replicas: undefined } }, options: { ...on.options, ignoreChanges: [] } };
    assert.equal(update(create(off), off, dropped).replicas, 1);
    const unforced: Registration = { ...off, inputs: { ...off.inputs, metadata: { ...(off.inputs as any).metadata, annotations: {} } } };
    assert.throws(() => update(hpaScales(create(on), 5), on, unforced), /field conflict/);
  });

  it("waits long enough for AcrPull to reach the nodes on a first rollout", () => {
    assert.deepEqual(off.options.customTimeouts, { create: `${ROLLOUT_TIMEOUT_MINUTES}m`, update: `${ROLLOUT_TIMEOUT_MINUTES}m` });
    assert.ok(ROLLOUT_TIMEOUT_MINUTES >= 10 + 5, "RBAC propagation (up to 10 min) + the kubelet's longest pull back-off (5 min)");
    assert.equal((off.inputs as any).spec.progressDeadlineSeconds, ROLLOUT_TIMEOUT_MINUTES * 60);
  });

  it("the Deployment waits for the AcrPull role assignment", async () => {
    const r = await run(OFF);
    const grant = r.one("azure-native:authorization:RoleAssignment");
    const urn = `urn:pulumi:test::adf-webhook-aks::azure-native:authorization:RoleAssignment::${grant.name}`;
    assert.ok(deploymentOf(r).options.dependencies.includes(urn), deploymentOf(r).options.dependencies.join("\n"));
  });
});
