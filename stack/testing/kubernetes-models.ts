/**
 * The Kubernetes objects' schemas, from kubernetes-models (generated from the Kubernetes OpenAPI schema and
 * the projects' CRDs), by Pulumi type token; and an object as the Kubernetes API would receive it.
 */
import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";

import type { Registration } from "./harness.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

// kubernetes-models checks types, formats, enums and required fields against the Kubernetes OpenAPI
// schema. It accepts unknown field names, as the API server's schema does; those are caught earlier,
// by tsc's excess-property checks against @pulumi/kubernetes's input types (npm run typecheck).

export type ModelClass = new (data: any) => { validate(): void };

/** Pulumi's type token -> the kubernetes-models class that validates it against the OpenAPI schema. */
export const MODELS: Record<string, ModelClass> = {
  "kubernetes:core/v1:Namespace": Namespace,
  "kubernetes:core/v1:ConfigMap": ConfigMap,
  "kubernetes:core/v1:Secret": Secret,
  "kubernetes:core/v1:Service": Service,
  "kubernetes:apps/v1:Deployment": Deployment,
  "kubernetes:policy/v1:PodDisruptionBudget": PodDisruptionBudget,
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": HorizontalPodAutoscaler,
};

/**
 * The custom resources, against the models kubernetes-models publishes for them (generated from the
 * projects' CRDs). Those packages are ES modules only: imported when the tests start.
 */
export async function loadCustomResourceModels(): Promise<Record<string, ModelClass>> {
  const { Gateway } = await import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway");
  const { GatewayClass } = await import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass");
  const { HTTPRoute } = await import("@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute");
  const { Issuer } = await import("@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer");
  return {
    "kubernetes:gateway.networking.k8s.io/v1:Gateway": Gateway,
    "kubernetes:gateway.networking.k8s.io/v1:GatewayClass": GatewayClass,
    "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute": HTTPRoute,
    "kubernetes:cert-manager.io/v1:Issuer": Issuer,
  };
}

/** The object as the Kubernetes API would receive it (Pulumi fills in metadata.name when auto-naming). */
export function manifest(resource: Registration): any {
  const inputs = resource.inputs as any;
  const name = inputs.metadata?.name ?? (resource.state as any).metadata?.name;
  return { ...inputs, metadata: { ...inputs.metadata, name } };
}
