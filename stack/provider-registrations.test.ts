import * as assert from "node:assert/strict";
import * as path from "node:path";

import { azureRestFor } from "./azure-rest.js";
import { loadConfig } from "./config/index.js";
import { providerStates, registrationMessage, requiredProviders, unregisteredProviders } from "./provider-registrations.js";
import { reader, run, SUBSCRIPTION_ID, TENANT_ID } from "./testing/harness.js";
import { ENTRA_ACCESS_TOKEN, startFakeAzure, type FakeAzure } from "./testing/fake-azure.js";
import { runNodeResult } from "./testing/engine.js";

const FRESH = ["Microsoft.ContainerService", "Microsoft.ContainerRegistry"];

describe("a fresh subscription: resource provider registration", function () {
  this.timeout(60_000);

  it("the stack needs what it creates, and Data Factory's only with a factory", () => {
    const created = requiredProviders(loadConfig(reader({})));
    for (const namespace of ["Microsoft.ContainerService", "Microsoft.ContainerRegistry", "Microsoft.Compute", "Microsoft.Network"]) assert.ok(created.includes(namespace));
    assert.ok(!created.includes("Microsoft.DataFactory"));
    const existing = { target: "existing", registryName: "a1234", registryResourceGroup: "b", clusterName: "c", clusterResourceGroup: "d" };
    assert.deepEqual(requiredProviders(loadConfig(reader(existing))), [], "an existing registry and cluster prove theirs");
    assert.deepEqual(requiredProviders(loadConfig(reader({ ...existing, exposure: "loadbalancer", dataFactory: "true" }))), ["Microsoft.DataFactory"]);
  });

  it("target containerapps: Container Apps and the pull identity; the workspace's and the registry's when it creates them", () => {
    assert.deepEqual(requiredProviders(loadConfig(reader({ target: "containerapps", dataFactory: "true" }))), [
      "Microsoft.App",
      "Microsoft.ManagedIdentity",
      "Microsoft.OperationalInsights",
      "Microsoft.ContainerRegistry",
      "Microsoft.DataFactory",
    ]);
    const brought = { target: "containerapps", environmentName: "cae", environmentResourceGroup: "rg", registryName: "myacr", registryResourceGroup: "rg" };
    assert.deepEqual(requiredProviders(loadConfig(reader(brought))), ["Microsoft.App", "Microsoft.ManagedIdentity"]);
  });

  it("the commands to type name the subscription and every missing namespace", () => {
    assert.equal(
      registrationMessage("sub-1", ["Microsoft.ContainerService"]).split("\n").at(-1),
      "  az provider register --subscription sub-1 --namespace Microsoft.ContainerService --wait",
    );
  });

  it("the Azure cloud decides Resource Manager's address", () => {
    assert.equal(azureRestFor(undefined).resourceManager, "https://management.azure.com");
    assert.equal(azureRestFor("USGovernment").resourceManager, "https://management.usgovcloudapi.net");
    assert.equal(azureRestFor("china").acrExchangeUrl("r.azurecr.cn"), "https://r.azurecr.cn/oauth2/exchange");
    assert.throws(() => azureRestFor("mars"), /not one of public, usgovernment, china/);
  });

  describe("the check (Resource Manager on 127.0.0.1)", () => {
    let azure: FakeAzure;
    before(async () => {
      azure = await startFakeAzure(TENANT_ID);
    });
    after(() => azure.close());

    it("reads each namespace's registrationState with the identity's token", async () => {
      azure.unregistered.clear();
      azure.unregistered.add("Microsoft.ContainerService");
      const missing = await unregisteredProviders({ rest: azure.rest, subscriptionId: SUBSCRIPTION_ID, accessToken: ENTRA_ACCESS_TOKEN, namespaces: FRESH });
      assert.deepEqual(missing, ["Microsoft.ContainerService"]);
      const reads = azure.requests.filter((q) => q.path.includes("/providers/"));
      assert.deepEqual(reads.map((q) => q.path).sort(), FRESH.map((ns) => `/arm/subscriptions/${SUBSCRIPTION_ID}/providers/${ns}`).sort());
      assert.ok(reads.every((q) => q.authorization === `Bearer ${ENTRA_ACCESS_TOKEN}` && q.fields["api-version"] === "2021-04-01"));
    });

    it("a registration this identity may not read (403, roles on resource groups only) is reported apart", async () => {
      azure.unregistered.clear();
      azure.forbidden.add("Microsoft.ContainerRegistry");
      try {
        const states = await providerStates({ rest: azure.rest, subscriptionId: SUBSCRIPTION_ID, accessToken: ENTRA_ACCESS_TOKEN, namespaces: FRESH });
        assert.deepEqual(states, { missing: [], unreadable: ["Microsoft.ContainerRegistry"] });
      } finally {
        azure.forbidden.clear();
      }
    });

    it("a refused read says what Resource Manager answered, without the token", async () => {
      await assert.rejects(
        unregisteredProviders({ rest: azure.rest, subscriptionId: SUBSCRIPTION_ID, accessToken: "expired", namespaces: FRESH }),
        (error: Error) => /HTTP 401 \(InvalidAuthenticationToken/.test(error.message) && !error.message.includes("expired"),
      );
    });
  });

  describe("in the program", () => {
    it("all registered: the run goes on, and the check happened before any resource", async () => {
      const r = await run({});
      const reads = r.azureRequests.filter((q) => q.path.includes("/providers/"));
      assert.equal(reads.length, requiredProviders(loadConfig(reader({}))).length);
      assert.equal(r.ofType("azure-native:resources:ResourceGroup").length, 1);
    });

    it("an identity that may not read the registrations (a preview-only role): the run goes on", async () => {
      const r = await run({}, {}, { preview: true, forbiddenProviders: requiredProviders(loadConfig(reader({}))) });
      assert.equal(r.ofType("azure-native:resources:ResourceGroup").length, 1);
    });

    it("a fresh subscription: preview stops before any Azure resource, with the exact az commands", async () => {
      // In its own process, as Pulumi's Node runtime runs the program: the failure ends the program.
      const config = { values: {}, options: { preview: true, unregisteredProviders: ["Microsoft.ContainerService", "Microsoft.Compute"] } };
      const child = await runNodeResult(["--import", "tsx", path.join(import.meta.dirname, "testing", "failing-program.ts")], import.meta.dirname, { RUN_CONFIG: JSON.stringify(config) });
      assert.notEqual(child.code, 0, "the program exits with a failure");
      const result = JSON.parse(child.stdout) as { error?: string; registered: string[] };
      assert.ok(result.error, "the program fails");
      assert.match(result.error, new RegExp(`az provider register --subscription ${SUBSCRIPTION_ID} --namespace Microsoft\\.ContainerService --wait`));
      assert.match(result.error, /--namespace Microsoft\.Compute --wait/);
      assert.ok(!result.error.includes("Microsoft.ContainerRegistry"), "only what is missing");
      assert.ok(!result.error.includes(ENTRA_ACCESS_TOKEN));
      assert.deepEqual(
        result.registered.filter((type) => type.startsWith("azure-native:")),
        [],
        "nothing reached Azure",
      );
    });
  });
});
