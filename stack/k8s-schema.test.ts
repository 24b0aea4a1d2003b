import * as assert from "node:assert/strict";

import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";

import { run, type Registration } from "./test-harness";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

// kubernetes-models checks types, formats, enums and required fields against the Kubernetes OpenAPI
// schema. It accepts unknown field names, as the API server's schema does; those are caught earlier,
// by tsc's excess-property checks against @pulumi/kubernetes's input types (npm run typecheck).

/** Pulumi's type token -> the kubernetes-models class that validates it against the OpenAPI schema. */
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  "kubernetes:core/v1:Namespace": Namespace,
  "kubernetes:core/v1:ConfigMap": ConfigMap,
  "kubernetes:core/v1:Secret": Secret,
  "kubernetes:core/v1:Service": Service,
  "kubernetes:apps/v1:Deployment": Deployment,
  "kubernetes:policy/v1:PodDisruptionBudget": PodDisruptionBudget,
  "kubernetes:autoscaling/v2:HorizontalPodAutoscaler": HorizontalPodAutoscaler,
};

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const KUBE_SECRETS = { kubeconfig: "apiVersion: v1\nkind: Config\n" };

/** Every configuration shape the tests run; together they create every kind of object the program can. */
const SHAPES: [string, Record<string, string>, Record<string, string>][] = [
  ["created Azure, defaults", {}, {}],
  ["created Azure, LoadBalancer, HPA, fsGroup", { serviceType: "LoadBalancer", hpaEnabled: "true", fsGroup: "2000" }, {}],
  [
    "existing Azure, basic auth, Data Factory",
    {
      target: "existing",
      registryName: "myacr",
      registryResourceGroup: "rg",
      clusterName: "aks",
      clusterResourceGroup: "rg",
      serviceType: "LoadBalancer",
      dataFactory: "true",
      authMode: "basic",
      basicAuthUsername: "adf",
    },
    { basicAuthPassword: "pw" },
  ],
  [
    "entra with Data Factory",
    { serviceType: "LoadBalancer", dataFactory: "true", authMode: "entra", entraTenantId: TENANT, entraAudience: "api://adf-webhook" },
    {},
  ],
  ["kubeconfig, local registry", { target: "kubeconfig", registryServer: "localhost:5001", callbackAllowInsecure: "true" }, KUBE_SECRETS],
  [
    "kubeconfig, private registry (imagePullSecret)",
    { target: "kubeconfig", registryServer: "registry.example.com", registryUsername: "ci" },
    { ...KUBE_SECRETS, registryPassword: "pw" },
  ],
];

/** The object as the Kubernetes API would receive it (Pulumi fills in metadata.name when auto-naming). */
function manifest(resource: Registration): any {
  const inputs = resource.inputs as any;
  const name = inputs.metadata?.name ?? (resource.state as any).metadata?.name;
  return { ...inputs, metadata: { ...inputs.metadata, name } };
}

describe("every Kubernetes object validates against the Kubernetes schema (kubernetes-models)", function () {
  this.timeout(20_000);
  const seen = new Set<string>();

  for (const [shape, values, secrets] of SHAPES) {
    it(shape, async () => {
      const r = await run(values, secrets);
      const objects = r.resources.filter((x) => x.type.startsWith("kubernetes:"));
      assert.ok(objects.length >= 6, "the namespace, settings, secret, deployment, service and PDB at least");
      for (const object of objects) {
        const Model = MODELS[object.type];
        assert.ok(Model, `no schema model mapped for ${object.type}: add it to MODELS`);
        const body = manifest(object);
        assert.equal(`${body.apiVersion}/${body.kind}`.replace(/^v1\//, "core/v1/"), object.type.replace(/^kubernetes:/, "").replace(":", "/"));
        assert.doesNotThrow(() => new Model(body).validate(), `${object.type} ${object.name} is invalid`);
        seen.add(object.type);
      }
    });
  }

  it("covered every kind of object the program creates", () => {
    assert.deepEqual([...seen].sort(), Object.keys(MODELS).sort());
  });

  it("would catch an invalid object (the check is not vacuous)", async () => {
    const r = await run({});
    const body = manifest(r.one("kubernetes:apps/v1:Deployment"));
    body.spec.template.spec.containers[0].ports[0].containerPort = "http";
    assert.throws(() => new Deployment(body).validate());
    const service = manifest(r.one("kubernetes:core/v1:Service"));
    delete service.spec.ports[0].port;
    assert.throws(() => new Service(service).validate());
  });
});
