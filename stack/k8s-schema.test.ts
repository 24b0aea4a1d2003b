import * as assert from "node:assert/strict";

import { Deployment } from "kubernetes-models/apps/v1";
import { Service } from "kubernetes-models/v1";

import { kubernetesConfigurations } from "./testing/configurations.js";
import { run } from "./testing/harness.js";
import { loadCustomResourceModels, manifest, MODELS } from "./testing/kubernetes-models.js";
import { RELEASE } from "./testing/views.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

describe("every Kubernetes object validates against the Kubernetes schema (kubernetes-models)", function () {
  this.timeout(20_000);
  const seen = new Set<string>();
  before(async () => {
    Object.assign(MODELS, await loadCustomResourceModels());
  });

  // Together they create every kind of object the program can (target containerapps creates none).
  for (const { name, values, secrets } of kubernetesConfigurations()) {
    it(name, async () => {
      const r = await run(values, secrets);
      // Helm releases are not Kubernetes objects: stack/exposure/exposure.test.ts checks their charts and values.
      const objects = r.resources.filter((x) => x.type.startsWith("kubernetes:") && x.type !== RELEASE);
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
