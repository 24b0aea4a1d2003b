import type * as pulumi from "@pulumi/pulumi";

import type { AppConfig } from "../config/app.js";

/**
 * How long `pulumi up` waits for the Deployment to become available. On a first rollout the nodes
 * pull before the new AcrPull role assignment has reached them (Azure RBAC changes can take up to
 * 10 minutes), and the kubelet retries a failed pull with a back-off of up to 5 minutes: 20 minutes
 * covers both. pulumi-kubernetes waits 10 minutes unless told otherwise (await/deployment.go).
 */
export const ROLLOUT_TIMEOUT_MINUTES = 20;

/** pulumi-kubernetes' annotation: apply with force, taking fields over from other field managers. */
export const PATCH_FORCE_ANNOTATION = "pulumi.com/patchForce";

export interface ReplicaOwnership {
  /** Always set: with an HPA, the count the Deployment starts with (the HPA's minimum). */
  replicas: number;
  /** With an HPA, `spec.replicas` is ignored on updates, so the HPA's count is never reset. */
  ignoreChanges: string[];
  annotations: Record<string, string>;
}

/**
 * Who owns the Deployment's `spec.replicas` under server-side apply, with and without an HPA.
 *
 * Dropping `replicas` from the applied object would hand the field back to the API server, which
 * resets it to 1 when no other manager owns it: a scale-down to one pod every time the HPA is
 * turned on, and whenever the HPA has not yet written the field itself. So `replicas` is always
 * declared; with an HPA it is in `ignoreChanges`, and pulumi-kubernetes then applies the live value
 * while it still owns the field, or leaves the field out once the HPA (kube-controller-manager) has
 * taken it over (provider/pkg/await/await.go, handleSSAIgnoreFields). Turning the HPA off applies
 * the configured count again; patchForce takes the field back from kube-controller-manager instead
 * of failing with a field conflict (await.go, patchForce).
 */
export function replicaOwnership(app: Pick<AppConfig, "replicas" | "hpa">): ReplicaOwnership {
  return {
    replicas: app.hpa ? app.hpa.minReplicas : app.replicas,
    ignoreChanges: app.hpa ? ["spec.replicas"] : [],
    annotations: { [PATCH_FORCE_ANNOTATION]: "true" },
  };
}

/** The Deployment's resource options for a rollout that survives AcrPull propagation. */
export const ROLLOUT_TIMEOUTS: pulumi.CustomTimeouts = {
  create: `${ROLLOUT_TIMEOUT_MINUTES}m`,
  update: `${ROLLOUT_TIMEOUT_MINUTES}m`,
};
