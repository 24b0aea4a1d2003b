/**
 * A model of what the API server and pulumi-kubernetes do with a Deployment's spec.replicas under
 * server-side apply, with and without an HPA: who owns the field, and what an update leaves in it.
 */
import { PATCH_FORCE_ANNOTATION } from "../workload/rollout.js";
import type { Registration } from "./harness.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

export const PULUMI = "pulumi-kubernetes-a1b2c3"; // the provider's SSA field manager for this Deployment
const HPA = "kube-controller-manager"; // the HPA controller writes through the scale subresource
const DEFAULT_REPLICAS = 1; // what the API server defaults an unowned spec.replicas to

/** The live Deployment's spec.replicas and its field managers, as the API server keeps them. */
export interface Live {
  replicas: number;
  owners: Set<string>;
}

export const declared = (d: Registration): number | undefined => (d.inputs as any).spec.replicas;
export const forced = (d: Registration): boolean => (d.inputs as any).metadata.annotations?.[PATCH_FORCE_ANNOTATION] === "true";

/** `pulumi up` creating the Deployment: a server-side apply of the declared object. */
export function create(d: Registration): Live {
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
export function update(live: Live, old: Registration, next: Registration): Live {
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
export function hpaScales(live: Live, replicas: number): Live {
  return replicas === live.replicas ? live : { replicas, owners: new Set([HPA]) };
}
