import * as assert from "node:assert/strict";

import { run, UNKNOWN, type Run } from "./testing/harness.js";
import { assertSensibleOutputs, containerOf, typesOf } from "./testing/views.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const EXISTING = { target: "existing", registryName: "myacr", registryResourceGroup: "rg-acr", clusterName: "aks-prod", clusterResourceGroup: "rg-aks" };
const ENTRA_FACTORY = { exposure: "loadbalancer", allowPlainHttp: "true", dataFactory: "true", authMode: "entra", entraTenantId: TENANT, entraAudience: "api://adf-webhook" };


/**
 * `pulumi preview`: the mocks return what a provider returns for a resource it would create (its
 * inputs, its computed outputs unknown, no id), and the SDK skips output invokes whose arguments
 * depend on such a resource (runtime/invoke.ts), as the engine would.
 */
describe("preview (Pulumi mocks, isPreview=true)", function () {
  this.timeout(30_000);

  describe("a first preview on a fresh subscription (target new)", () => {
    let preview: Run;
    let up: Run;
    before(async () => {
      preview = await run({}, {}, { preview: true });
      up = await run({});
    });

    it("registers the same resources as the deployment", () => {
      assert.equal(preview.preview, true);
      assert.deepEqual(typesOf(preview, true), typesOf(up, true));
    });

    it("the pushed digest stays unknown: the Deployment's image and imageRef", () => {
      assert.equal(preview.one("docker:index/image:Image").state.repoDigest, UNKNOWN);
      assert.equal(containerOf(preview).image, UNKNOWN);
      assert.equal(preview.outputs.imageRef, UNKNOWN);
    });

    it("the cluster's identities stay unknown: no AcrPull principal, no kubeconfig read", () => {
      assert.equal((preview.one("azure-native:authorization:RoleAssignment").inputs as any).principalId, UNKNOWN);
      assert.ok(!preview.calls.some((c) => c.token === "azure-native:containerservice:listManagedClusterAdminCredentials"));
      assert.equal((preview.one("pulumi:providers:kubernetes").inputs as any).kubeconfig, UNKNOWN);
      assert.equal(preview.outputs.kubeconfig, UNKNOWN);
      assert.deepEqual(preview.secretOutputs, ["kubeconfig"]);
    });

    it("exports what is known, and nothing made of missing values", () => {
      assert.equal(preview.outputs.namespace, "adf-webhook");
      assert.equal(preview.outputs.serviceName, "adf-webhook-api");
      assert.equal(preview.outputs.portForwardCommand, "kubectl --namespace adf-webhook port-forward service/adf-webhook-api 5002:5002");
      assert.equal(preview.outputs.endpoint, "http://adf-webhook-api.adf-webhook.svc.cluster.local:5002");
      assert.equal(preview.outputs.registryServer, UNKNOWN);
      assertSensibleOutputs(preview);
    });
  });

  it("LoadBalancer: the address stays unknown, and so do the endpoint and the webhook URL", async () => {
    const r = await run({ exposure: "loadbalancer" }, {}, { preview: true });
    assert.equal(r.one("kubernetes:core/v1:Service").state.status, UNKNOWN);
    assert.equal(r.outputs.endpoint, UNKNOWN);
    assert.equal(r.outputs.webhookUrl, UNKNOWN);
    assertSensibleOutputs(r);
  });

  it("entra with a Data Factory: its identity and the pipeline's URLs stay unknown", async () => {
    const r = await run(ENTRA_FACTORY, {}, { preview: true });
    assert.equal(r.one("azure-native:datafactory:Factory").state.identity, UNKNOWN);
    assert.equal((r.one("kubernetes:core/v1:ConfigMap").inputs as any).data, UNKNOWN);
    const activities = r.one("azure-native:datafactory:Pipeline").inputs.activities as any[];
    assert.equal(activities.length, 2);
    for (const activity of activities) assert.equal(activity.url, UNKNOWN);
    assert.equal(r.outputs.dataFactoryPipelineName, "adf-webhook-sample");
    assertSensibleOutputs(r);
  });

  it("existing ACR and AKS: what is looked up is known, the digest is not", async () => {
    const r = await run({ ...EXISTING, exposure: "loadbalancer" }, {}, { preview: true });
    assert.equal(r.outputs.registryServer, "myacr.azurecr.io");
    assert.equal(r.outputs.clusterName, "aks-prod");
    assert.equal(r.outputs.imageRef, UNKNOWN);
    assert.equal(r.outputs.endpoint, UNKNOWN);
    assert.equal((r.one("azure-native:authorization:RoleAssignment").inputs as any).principalId, "11111111-1111-1111-1111-111111111111");
    assertSensibleOutputs(r);
  });

  describe("target containerapps: a first preview", () => {
    let preview: Run;
    let up: Run;
    const ACA = { target: "containerapps", authMode: "basic", basicAuthUsername: "adf" };
    before(async () => {
      preview = await run(ACA, { basicAuthPassword: "pw" }, { preview: true });
      up = await run(ACA, { basicAuthPassword: "pw" });
    });

    it("registers the same resources as the deployment", () => {
      assert.deepEqual(typesOf(preview, true), typesOf(up, true));
    });

    it("what Azure computes stays unknown: the digest, the identity's principal, the workspace's key, the environment's domain", () => {
      assert.equal(preview.outputs.imageRef, UNKNOWN);
      assert.equal((preview.one("azure-native:authorization:RoleAssignment").inputs as any).principalId, UNKNOWN);
      assert.ok(!preview.calls.some((c) => c.token === "azure-native:operationalinsights:getSharedKeys"), "the key of a workspace not yet created is not asked for");
      const app = preview.one("azure-native:app:ContainerApp").inputs as any;
      // azure-native applies its defaults to configuration and template in an apply: unknown as a whole.
      assert.equal(app.template, UNKNOWN);
      assert.equal(app.configuration, UNKNOWN);
      assert.equal(preview.outputs.endpoint, UNKNOWN);
      assert.equal(preview.outputs.webhookUrl, UNKNOWN);
    });

    it("exports what is known, no secret and nothing made of missing values", () => {
      assert.equal(preview.outputs.containerAppName, "adf-webhook-api");
      assert.deepEqual(preview.secretOutputs, []);
      assertSensibleOutputs(preview);
    });
  });

  it("target containerapps with an existing environment and registry: the URL is known before the first deployment", async () => {
    const brought = { target: "containerapps", environmentName: "cae-shared", environmentResourceGroup: "rg-platform", registryName: "myacr", registryResourceGroup: "rg-acr" };
    const r = await run(brought, {}, { preview: true });
    assert.equal(r.outputs.endpoint, "https://adf-webhook-api.cae-shared.northeurope.azurecontainerapps.io");
    assert.equal(r.outputs.registryServer, "myacr.azurecr.io");
    assert.equal(r.outputs.imageRef, UNKNOWN);
    assertSensibleOutputs(r);
  });

  it("any cluster by kubeconfig: the digest is unknown, the rest known", async () => {
    const r = await run({ target: "kubeconfig", registryServer: "localhost:5001", kubeContext: "kind-dev" }, { kubeconfig: "apiVersion: v1\nkind: Config\n" }, { preview: true });
    assert.equal(r.outputs.imageRef, UNKNOWN);
    assert.equal(r.outputs.clusterName, "kind-dev");
    assertSensibleOutputs(r);
  });
});
