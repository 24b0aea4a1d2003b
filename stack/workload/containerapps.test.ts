import * as assert from "node:assert/strict";
import * as path from "node:path";

import { configOf } from "../testing/config.js";
import { runNodeResult } from "../testing/engine.js";
import {
  ADF_PRINCIPAL_ID,
  CONSUMPTION_ONLY_ENVIRONMENT,
  DIGEST,
  ENVIRONMENT_DOMAIN,
  PULL_IDENTITY_PRINCIPAL_ID,
  run,
  SUBSCRIPTION_ID,
  UNKNOWN,
  WORKSPACE_CUSTOMER_ID,
  WORKSPACE_SHARED_KEY,
  type Registration,
  type Run,
} from "../testing/harness.js";
import { ARM_RESOURCES, containerAppsArmInputs } from "../testing/arm-bodies.js";
import { stringsIn } from "../testing/checkout.js";
import { ACR_PULL_ROLE_ID } from "../platform.js";
import { CONTAINER_APPS_LIMITS } from "../config/container-apps-limits.js";
import { containerAppProbe, webActivityTimeoutWarning } from "./containerapps.js";
import { PROBES } from "./index.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

const ACA = { target: "containerapps" };
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const APP = "azure-native:app:ContainerApp";
const ENVIRONMENT = "azure-native:app:ManagedEnvironment";
const IDENTITY = "azure-native:managedidentity:UserAssignedIdentity";
const ROLE = "azure-native:authorization:RoleAssignment";
const BROUGHT = { appResourceGroup: "rg-apps", environmentName: "cae-shared", environmentResourceGroup: "rg-platform", registryName: "myacr", registryResourceGroup: "rg-shared" };

const inputs = (r: Run, type: string): any => r.one(type).inputs;
const containerOf = (r: Run): any => inputs(r, APP).template.containers[0];
/** The end of a resource's URN: its type and name. */
const urnEnd = (x: Registration) => `${x.type}::${x.name}`;

describe("target containerapps (Pulumi mocks)", function () {
  this.timeout(20_000);

  describe("everything created (the defaults)", () => {
    let r: Run;
    before(async () => {
      r = await run({ ...ACA, authMode: "basic", basicAuthUsername: "adf", allowedSourceRanges: "203.0.113.0/24, 198.51.100.7" }, { basicAuthPassword: "s3cret pass" });
    });

    it("creates a resource group, an ACR with its admin user off, a workspace, an environment, the pull identity, AcrPull and the app; no cluster", () => {
      assert.deepEqual(
        r.resources.map((x) => x.type).filter((type) => type.startsWith("azure-native:")).sort(),
        [
          "azure-native:app:ContainerApp",
          "azure-native:app:ManagedEnvironment",
          "azure-native:authorization:RoleAssignment",
          "azure-native:containerregistry:Registry",
          "azure-native:managedidentity:UserAssignedIdentity",
          "azure-native:operationalinsights:Workspace",
          "azure-native:resources:ResourceGroup",
        ],
      );
      assert.equal(inputs(r, "azure-native:containerregistry:Registry").adminUserEnabled, false);
      assert.ok(!r.resources.some((x) => x.type.startsWith("kubernetes:") || x.type === "pulumi:providers:kubernetes"));
    });

    it("runs the one image by the digest the push gave, as on AKS", () => {
      const image = r.one("docker:index/image:Image");
      assert.equal(containerOf(r).image, image.state.repoDigest);
      assert.match(containerOf(r).image, new RegExp(`^adfwebhook[0-9a-f]{10}\\.azurecr\\.io/adf-webhook-api@${DIGEST}$`));
      assert.equal(r.outputs.imageRef, containerOf(r).image);
    });

    it("a v2 environment (the Consumption profile) whose Log Analytics key is a secret", () => {
      const environment = inputs(r, ENVIRONMENT);
      assert.deepEqual(environment.workloadProfiles, [{ name: "Consumption", workloadProfileType: "Consumption" }]);
      assert.deepEqual(environment.appLogsConfiguration, {
        destination: "log-analytics",
        logAnalyticsConfiguration: { customerId: WORKSPACE_CUSTOMER_ID, sharedKey: WORKSPACE_SHARED_KEY },
      });
      assert.deepEqual(r.one(ENVIRONMENT).secretPaths, ["appLogsConfiguration"]);
      assert.equal(environment.location, "westeurope");
      assert.equal(inputs(r, APP).workloadProfileName, "Consumption");
    });

    it("pulls with a user-assigned identity granted AcrPull on the registry before the app exists", () => {
      const identity = r.one(IDENTITY);
      const role = inputs(r, ROLE);
      assert.equal(role.principalId, PULL_IDENTITY_PRINCIPAL_ID);
      assert.equal(role.principalType, "ServicePrincipal");
      assert.equal(role.scope, r.one("azure-native:containerregistry:Registry").state.id);
      assert.equal(role.roleDefinitionId, `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL_ROLE_ID}`);
      const app = inputs(r, APP);
      assert.deepEqual(app.identity, { type: "UserAssigned", userAssignedIdentities: [identity.state.id] });
      assert.deepEqual(app.configuration.registries, [{ server: r.outputs.registryServer, identity: identity.state.id }]);
      assert.ok(!JSON.stringify(app.configuration.registries).includes("password"), "no registry password");
      // dependsOn: the role assignment, not only what the inputs name.
      assert.ok(r.one(APP).options.dependencies.some((urn) => urn.endsWith(urnEnd(r.one(ROLE)))));
      assert.ok(!Object.values(r.one(APP).options.propertyDependencies).flat().some((urn) => urn.endsWith(urnEnd(r.one(ROLE)))));
    });

    it("the API's settings as environment variables, its secrets as Container Apps secrets read by secretRef, never in clear", () => {
      const env = containerOf(r).env as { name: string; value?: string; secretRef?: string }[];
      assert.deepEqual(Object.fromEntries(env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value])), configOf({ authMode: "basic", basicAuthUsername: "adf" }, { basicAuthPassword: "x" }).api.environment);
      assert.deepEqual(env.filter((e) => e.secretRef !== undefined), [{ name: "BASIC_AUTH_PASSWORD", secretRef: "basic-auth-password" }]);
      assert.deepEqual(inputs(r, APP).configuration.secrets, [{ name: "basic-auth-password", value: "s3cret pass" }]);
      // In the state: the whole configuration (secrets, registries, ingress) encrypted; the template holds no value of it.
      assert.deepEqual(r.one(APP).secretPaths, ["configuration"]);
      assert.ok(!JSON.stringify(inputs(r, APP).template).includes("s3cret"));
      assert.deepEqual(r.secretOutputs, []);
      for (const text of stringsIn(r.outputs)) assert.ok(!text.includes("s3cret") && !text.includes(WORKSPACE_SHARED_KEY), text);
    });

    it("HTTPS on the environment's domain: external ingress to the API's port, http:// redirected, IPv4 restrictions", () => {
      const { ingress } = inputs(r, APP).configuration;
      assert.equal(ingress.external, true);
      assert.equal(ingress.allowInsecure, false);
      assert.equal(ingress.targetPort, 5002);
      assert.equal(ingress.transport, "http");
      assert.deepEqual(ingress.ipSecurityRestrictions, [
        { name: "allowed-0", ipAddressRange: "203.0.113.0/24", action: "Allow" },
        { name: "allowed-1", ipAddressRange: "198.51.100.7/32", action: "Allow" },
      ]);
      assert.equal(r.outputs.endpoint, `https://adf-webhook-api.${ENVIRONMENT_DOMAIN}`);
      assert.equal(r.outputs.webhookUrl, `https://adf-webhook-api.${ENVIRONMENT_DOMAIN}/helloworld`);
      assert.equal(r.outputs.containerAppName, "adf-webhook-api");
      for (const key of ["namespace", "serviceName", "portForwardCommand", "clusterName", "kubeconfig"]) assert.ok(!(key in r.outputs), `no ${key}`);
    });

    it("never scales to zero nor in: min = max = replicas, no scale rule", () => {
      assert.deepEqual(inputs(r, APP).template.scale, { minReplicas: 2, maxReplicas: 2 });
    });

    it("stops as the Deployment does, without the preStop pause: 356 s by default, within Container Apps' 600 s", () => {
      const { template } = inputs(r, APP);
      assert.equal(template.terminationGracePeriodSeconds, 20 + 331 + 5);
      assert.ok(template.terminationGracePeriodSeconds <= CONTAINER_APPS_LIMITS.terminationGracePeriodSeconds);
    });

    it("probes the same paths on the API's port, within Container Apps' limits", () => {
      assert.deepEqual(containerOf(r).probes, [
        { type: "Startup", httpGet: { path: "/healthz", port: 5002 }, periodSeconds: 6, timeoutSeconds: 2, failureThreshold: 10 },
        { type: "Liveness", httpGet: { path: "/healthz", port: 5002 }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
        { type: "Readiness", httpGet: { path: "/readyz", port: 5002 }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
      ]);
      assert.deepEqual(containerOf(r).resources, { cpu: 0.5, memory: "1Gi" });
    });

    it("the explicit location Resource Manager needs on every resource it tracks", () => {
      for (const type of [APP, ENVIRONMENT, IDENTITY, "azure-native:operationalinsights:Workspace", "azure-native:containerregistry:Registry"]) {
        assert.equal(inputs(r, type).location, "westeurope", type);
      }
    });
  });

  it("a probe over Container Apps' failureThreshold keeps its time: fewer, longer periods", () => {
    for (const probe of Object.values(PROBES)) {
      const converted = containerAppProbe("Liveness", probe, 5002);
      assert.ok((converted.failureThreshold as number) <= CONTAINER_APPS_LIMITS.probeFailureThreshold);
      assert.ok((converted.periodSeconds as number) * (converted.failureThreshold as number) >= probe.periodSeconds * probe.failureThreshold);
    }
  });

  it("opted into scaling (hpaEnabled): a CPU scale rule between the autoscaler's bounds, never below one replica", async () => {
    const r = await run({ ...ACA, hpaEnabled: "true", hpaMinReplicas: "1", hpaMaxReplicas: "4", hpaCpuUtilization: "65" });
    assert.deepEqual(inputs(r, APP).template.scale, {
      minReplicas: 1,
      maxReplicas: 4,
      rules: [{ name: "cpu-utilization", custom: { type: "cpu", metadata: { type: "Utilization", value: "65" } } }],
    });
  });

  describe("an existing environment and registry, in an existing group", () => {
    let r: Run;
    before(async () => {
      r = await run({ ...ACA, ...BROUGHT, containerAppCpu: "2.5" });
    });

    it("creates no group, registry, workspace or environment: the app and its identity only", () => {
      assert.deepEqual(r.resources.map((x) => x.type).filter((type) => type.startsWith("azure-native:")).sort(), [APP, ROLE, IDENTITY].sort());
      assert.equal(inputs(r, ROLE).scope, `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/myacr`);
      assert.equal(inputs(r, APP).resourceGroupName, "rg-apps");
      assert.equal(inputs(r, IDENTITY).resourceGroupName, "rg-apps");
    });

    it("in the environment's region, on its Consumption profile, at its domain", () => {
      assert.equal(inputs(r, APP).location, "northeurope");
      assert.equal(inputs(r, IDENTITY).location, "northeurope");
      assert.equal(inputs(r, APP).environmentId, `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-platform/providers/Microsoft.App/managedEnvironments/cae-shared`);
      assert.equal(inputs(r, APP).workloadProfileName, "Consumption");
      assert.deepEqual(containerOf(r).resources, { cpu: 2.5, memory: "5Gi" });
      assert.equal(r.outputs.endpoint, "https://adf-webhook-api.cae-shared.northeurope.azurecontainerapps.io");
      assert.equal(r.outputs.resourceGroupName, "rg-apps");
    });
  });

  it("a Consumption-only environment: no workload profile named; a replica over its 2 vCPUs stops the run, naming containerAppCpu", async () => {
    const values = { ...ACA, ...BROUGHT, environmentName: CONSUMPTION_ONLY_ENVIRONMENT };
    const r = await run(values);
    assert.equal(inputs(r, APP).workloadProfileName, undefined);
    const config = { values: { ...values, containerAppCpu: "2.5" } };
    const child = await runNodeResult(["--import", "tsx", path.join(import.meta.dirname, "..", "testing", "failing-program.ts")], import.meta.dirname, { RUN_CONFIG: JSON.stringify(config) });
    const result = JSON.parse(child.stdout) as { error?: string };
    assert.match(result.error ?? "", /^containerAppCpu: 2\.5 vCPUs do not fit the Container Apps environment cae-consumption-only, which has no workload profiles \(2 vCPUs at most there\)/);
  });

  it("with a Data Factory: the sample pipeline calls the app's HTTPS URL, and with entra the factory's identity is an allowed caller", async () => {
    const r = await run({ ...ACA, dataFactory: "true", authMode: "entra", entraTenantId: TENANT, entraAudience: "api://adf-webhook" });
    const activities = inputs(r, "azure-native:datafactory:Pipeline").activities as any[];
    assert.deepEqual(
      activities.map((a) => a.url),
      [`https://adf-webhook-api.${ENVIRONMENT_DOMAIN}/helloworld`, `https://adf-webhook-api.${ENVIRONMENT_DOMAIN}/simulate`],
    );
    assert.deepEqual(activities[0].authentication, { type: "MSI", resource: "api://adf-webhook" });
    const env = containerOf(r).env as { name: string; value?: string }[];
    assert.equal(env.find((e) => e.name === "ENTRA_ALLOWED_CALLERS")?.value, ADF_PRINCIPAL_ID);
    // The factory goes in the stack's group.
    assert.equal(inputs(r, "azure-native:datafactory:Factory").resourceGroupName, r.outputs.resourceGroupName);
  });

  it("warns about Web activity calls longer than the ingress's 240 s, naming jobTimeoutMs, and not at or below it", () => {
    assert.match(webActivityTimeoutWarning({ JOB_TIMEOUT_MS: 600_000 }) ?? "", /^jobTimeoutMs is 600000 ms, but Container Apps' ingress ends a request after 240 s: .*Webhook activity/);
    assert.equal(webActivityTimeoutWarning({ JOB_TIMEOUT_MS: 240_000 }), undefined);
  });

  it("gives the ARM check (check-arm-bodies.ts, .ci/run) every resource type to check, as a deployment sends them: nothing unknown", async () => {
    const found = await containerAppsArmInputs();
    assert.deepEqual([...new Set(found.map(({ resource }) => resource.type))].sort(), ARM_RESOURCES.map(({ type }) => type).sort());
    const unknown = (value: unknown): boolean => value === UNKNOWN || (typeof value === "object" && value !== null && Object.values(value).some(unknown));
    for (const { configuration, name, inputs: body } of found) assert.ok(!unknown(body), `${configuration}: ${name}`);
  });
});
