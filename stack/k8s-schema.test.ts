import * as assert from "node:assert/strict";

import { Deployment } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Secret, Service } from "kubernetes-models/v1";

import { run, type Registration } from "./testing/harness.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

// kubernetes-models checks types, formats, enums and required fields against the Kubernetes OpenAPI
// schema. It accepts unknown field names, as the API server's schema does; those are caught earlier,
// by tsc's excess-property checks against @pulumi/kubernetes's input types (npm run typecheck).

type ModelClass = new (data: any) => { validate(): void };

/** Pulumi's type token -> the kubernetes-models class that validates it against the OpenAPI schema. */
const MODELS: Record<string, ModelClass> = {
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
async function loadCustomResourceModels(): Promise<Record<string, ModelClass>> {
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

/** Helm releases are not Kubernetes objects: stack/exposure/exposure.test.ts checks their charts and values. */
const HELM_RELEASE = "kubernetes:helm.sh/v3:Release";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const KUBE_SECRETS = { kubeconfig: "apiVersion: v1\nkind: Config\n" };

/** Every configuration shape the tests run; together they create every kind of object the program can. */
const SHAPES: [string, Record<string, string>, Record<string, string>][] = [
  ["created Azure, defaults", {}, {}],
  ["created Azure, LoadBalancer, HPA, fsGroup", { exposure: "loadbalancer", hpaEnabled: "true", fsGroup: "2000" }, {}],
  ["created Azure, LoadBalancer restricted to source ranges", { exposure: "loadbalancer", allowedSourceRanges: "203.0.113.0/24,2001:db8::/32" }, {}],
  [
    "existing Azure, basic auth, Data Factory, https through the cluster's gateway class with its own certificate",
    {
      target: "existing",
      registryName: "myacr",
      registryResourceGroup: "rg",
      clusterName: "aks",
      clusterResourceGroup: "rg",
      exposure: "https",
      gatewayClassName: "approuting-istio",
      tlsSecretName: "adf-tls",
      allowedSourceRanges: "203.0.113.0/24",
      dataFactory: "true",
      authMode: "basic",
      basicAuthUsername: "adf",
    },
    { basicAuthPassword: "pw" },
  ],
  [
    "entra with Data Factory, https with Let's Encrypt on an Azure DNS label (Envoy Gateway, cert-manager)",
    { exposure: "https", acmeEmail: "ops@example.com", dataFactory: "true", authMode: "entra", entraTenantId: TENANT, entraAudience: "api://adf-webhook" },
    {},
  ],
  [
    "kubeconfig, https on the user's host name, staging ACME, the cluster's cert-manager",
    { target: "kubeconfig", registryServer: "localhost:5001", exposure: "https", hostname: "adf.example.com", acmeEmail: "ops@example.com", acmeServer: "staging", installCertManager: "false" },
    KUBE_SECRETS,
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
  before(async () => {
    Object.assign(MODELS, await loadCustomResourceModels());
  });

  for (const [shape, values, secrets] of SHAPES) {
    it(shape, async () => {
      const r = await run(values, secrets);
      const objects = r.resources.filter((x) => x.type.startsWith("kubernetes:") && x.type !== HELM_RELEASE);
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

  it("would catch an invalid custom resource too", async () => {
    const r = await run({ exposure: "https", acmeEmail: "ops@example.com" });
    const of = (kind: string) => r.resources.filter((x) => x.type.endsWith(`:${kind}`)).map(manifest);
    const [gateway] = of("Gateway");
    gateway.spec.listeners[0].protocol = 80;
    assert.throws(() => new MODELS["kubernetes:gateway.networking.k8s.io/v1:Gateway"]!(gateway).validate());
    const HTTPRoute = MODELS["kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"]!;
    const [redirect] = of("HTTPRoute").filter((route: any) => route.spec.rules[0].filters?.[0].requestRedirect);
    redirect.spec.rules[0].filters[0].requestRedirect.scheme = "ftp";
    assert.throws(() => new HTTPRoute(redirect).validate());
    const [api] = of("HTTPRoute").filter((route: any) => route.spec.rules.some((rule: any) => rule.timeouts));
    api.spec.rules.find((rule: any) => rule.timeouts).timeouts.request = "630 seconds";
    assert.throws(() => new HTTPRoute(api).validate());
    const [hidden] = of("HTTPRoute").filter((route: any) => route.spec.rules[0].filters?.[0].urlRewrite);
    hidden.spec.rules[0].filters[0].urlRewrite.path.type = "Drop";
    assert.throws(() => new HTTPRoute(hidden).validate());
    const [issuer] = of("Issuer");
    delete issuer.spec.acme.privateKeySecretRef;
    assert.throws(() => new MODELS["kubernetes:cert-manager.io/v1:Issuer"]!(issuer).validate());
  });
});
