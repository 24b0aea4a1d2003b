import * as assert from "node:assert/strict";

import { run, type Registration } from "../testing/harness.js";
import { create, declared, forced, hpaScales, PULUMI, update } from "../testing/server-side-apply.js";
import { deploymentRegistrationOf as deploymentOf } from "../testing/views.js";
import { ROLLOUT_TIMEOUT_MINUTES } from "./rollout.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

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
