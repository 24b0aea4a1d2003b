/**
 * The objects of a run the tests look at most, by kind (their recorded inputs, untyped JSON).
 */
import * as assert from "node:assert/strict";

import type { Registration, Run } from "./harness.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

/** Every registered type, sorted (with `names`, `type::name`). */
export const typesOf = (r: Run, names = false): string[] => r.resources.map((x) => (names ? `${x.type}::${x.name}` : x.type)).sort();
export const inputsOf = (x: Registration): any => x.inputs;
export const deploymentRegistrationOf = (r: Run): Registration => r.one("kubernetes:apps/v1:Deployment");
export const deploymentOf = (r: Run): any => inputsOf(deploymentRegistrationOf(r));
export const podOf = (r: Run): any => deploymentOf(r).spec.template.spec;
export const containerOf = (r: Run): any => podOf(r).containers[0];
export const configMapOf = (r: Run): Record<string, string> => inputsOf(r.one("kubernetes:core/v1:ConfigMap")).data;
export const serviceOf = (r: Run): any => inputsOf(r.one("kubernetes:core/v1:Service"));

/** No export is a string built from a missing value. */
export function assertSensibleOutputs(r: Run): void {
  for (const [key, value] of Object.entries(r.outputs)) {
    if (typeof value === "string") assert.ok(!/undefined|null|\[object Object\]/.test(value), `${key}: ${value}`);
  }
}

// The https entry's objects (stack/exposure/https.ts).
export const RELEASE = "kubernetes:helm.sh/v3:Release";
export const GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway";
export const GATEWAY_CLASS = "kubernetes:gateway.networking.k8s.io/v1:GatewayClass";
export const HTTP_ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute";
export const ISSUER = "kubernetes:cert-manager.io/v1:Issuer";
export const ENTRY_TYPES = ["adf-webhook-aks:exposure:HttpsEntry", RELEASE, GATEWAY, GATEWAY_CLASS, HTTP_ROUTE, ISSUER];

export const entryTypesOf = (r: Run): string[] => r.resources.filter((x) => ENTRY_TYPES.includes(x.type)).map((x) => x.type).sort();
/** The Helm releases by release name. */
export const releasesOf = (r: Run): Record<string, any> => Object.fromEntries(r.ofType(RELEASE).map((x) => [inputsOf(x).name, inputsOf(x)]));
/** The HTTPRoutes by name. */
export const routesOf = (r: Run): Record<string, any> => Object.fromEntries(r.ofType(HTTP_ROUTE).map((x) => [inputsOf(x).metadata.name, inputsOf(x)]));
