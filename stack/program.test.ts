import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { ACR_TOKEN_USERNAME } from "./acr-token.js";
import { ACR_PULL_ROLE_ID, defaultRegistryName } from "./platform.js";
import { adfTimeout, SAMPLE_PIPELINE_NAME } from "./data-factory.js";
import { defaultDnsLabel } from "./exposure/index.js";
import { API_CONTEXT, API_DOCKERFILE, PROGRAM_DIRECTORY } from "./image.js";
import { definedOutputs } from "./program.js";
import {
  ADF_PRINCIPAL_ID,
  ADMIN_KUBECONFIG,
  DIGEST,
  KUBELET_OBJECT_ID,
  LB_IP,
  run,
  SUBSCRIPTION_ID,
  TENANT_ID,
  type Registration,
  type Run,
} from "./testing/harness.js";
import { ACR_REFRESH_TOKEN, ENTRA_ACCESS_TOKEN } from "./testing/fake-azure.js";
import { configMapOf, containerOf, deploymentOf, podOf, typesOf } from "./testing/views.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

const EXISTING = { target: "existing", registryName: "myacr", registryResourceGroup: "rg-acr", clusterName: "aks-prod", clusterResourceGroup: "rg-aks" };
const KUBE = { target: "kubeconfig", registryServer: "localhost:5001", kubeContext: "kind-dev" };
const KUBE_SECRETS = { kubeconfig: "apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\n" };
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/** exposure https on target new, by default: the Azure DNS label's host. */
const DEFAULT_HTTPS_ENDPOINT = `https://${defaultDnsLabel("adf-webhook-api", SUBSCRIPTION_ID, "adf-webhook-aks", "test")}.westeurope.cloudapp.azure.com`;

const K8S_CORE = [
  "adf-webhook-aks:app:WebhookApp",
  "kubernetes:apps/v1:Deployment",
  "kubernetes:core/v1:ConfigMap",
  "kubernetes:core/v1:Namespace",
  "kubernetes:core/v1:Secret",
  "kubernetes:core/v1:Service",
  "kubernetes:policy/v1:PodDisruptionBudget",
  "pulumi:providers:kubernetes",
];

describe("stack program (Pulumi mocks)", function () {
  this.timeout(20_000);

  it("exports only the outputs a configuration has: the SDK warns about each undefined one on every preview", async () => {
    const common = ["clusterName", "endpoint", "imageRef", "namespace", "portForwardCommand", "registryName", "registryServer", "serviceName", "webhookUrl"];
    assert.deepEqual(Object.keys(definedOutputs((await run(KUBE, KUBE_SECRETS)).outputs)).sort(), common);
    assert.deepEqual(Object.keys(definedOutputs((await run({})).outputs)).sort(), [...common, "kubeconfig", "resourceGroupName"].sort());
  });

  describe("created Azure resources (default config)", () => {
    let r: Run;
    before(async () => {
      r = await run({});
    });

    it("creates a resource group, an ACR (Basic), an AKS cluster, AcrPull, the image and the app", () => {
      assert.deepEqual(
        typesOf(r),
        [
          "azure-native:authorization:RoleAssignment",
          "azure-native:containerregistry:Registry",
          "azure-native:containerservice:ManagedCluster",
          "azure-native:resources:ResourceGroup",
          "docker:index/image:Image",
          ...K8S_CORE,
        ].sort(),
      );
    });

    it("the ACR is Basic with a stable, valid name and no admin user", () => {
      const acr = r.one("azure-native:containerregistry:Registry").inputs as any;
      assert.equal(acr.sku.name, "Basic");
      assert.equal(acr.adminUserEnabled, false);
      assert.equal(acr.registryName, defaultRegistryName(SUBSCRIPTION_ID, "adf-webhook-aks", "test"));
      assert.match(acr.registryName, /^[a-z0-9]{5,50}$/);
    });

    it("AKS has a system-assigned identity and a small system node pool", () => {
      const aks = r.one("azure-native:containerservice:ManagedCluster").inputs as any;
      assert.deepEqual(aks.identity, { type: "SystemAssigned" });
      assert.equal(aks.agentPoolProfiles.length, 1);
      assert.equal(aks.agentPoolProfiles[0].mode, "System");
      assert.equal(aks.agentPoolProfiles[0].count, 2);
      assert.equal(aks.agentPoolProfiles[0].vmSize, "Standard_D2s_v5");
    });

    it("grants AcrPull on the registry to the kubelet identity, and uses no imagePullSecret", () => {
      const grant = r.one("azure-native:authorization:RoleAssignment").inputs as any;
      assert.equal(grant.principalId, KUBELET_OBJECT_ID);
      assert.equal(grant.principalType, "ServicePrincipal");
      assert.match(grant.scope, /\/providers\/Microsoft\.ContainerRegistry\/registries\/adfwebhook/);
      assert.equal(grant.roleDefinitionId, `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL_ROLE_ID}`);
      assert.equal(podOf(r).imagePullSecrets, undefined);
      assert.equal(r.ofType("kubernetes:core/v1:Secret").length, 1, "only the API's settings Secret");
    });

    it("pushes as the deploying identity: its Entra token exchanged at the registry for an ACR token, kept secret", () => {
      const image = r.one("docker:index/image:Image").inputs as any;
      const server = `${defaultRegistryName(SUBSCRIPTION_ID, "adf-webhook-aks", "test")}.azurecr.io`;
      assert.deepEqual(image.registry, { server, username: ACR_TOKEN_USERNAME, password: ACR_REFRESH_TOKEN });
      assert.deepEqual(r.one("docker:index/image:Image").secretPaths, ["registry"]);
      assert.ok(!r.calls.some((c) => c.token === "azure-native:containerregistry:listRegistryCredentials"));
      assert.ok(r.calls.some((c) => c.token === "azure-native:authorization:getClientToken" && Object.keys(c.inputs).length === 0), "Resource Manager's audience");
      const exchanges = r.azureRequests.filter((q) => q.path.endsWith("/oauth2/exchange"));
      assert.equal(exchanges.length, 1);
      assert.deepEqual(exchanges[0]?.fields, { grant_type: "access_token", service: server, tenant: TENANT_ID, access_token: ENTRA_ACCESS_TOKEN });
    });

    it("gives the Kubernetes provider the cluster's admin kubeconfig, and exports it", () => {
      const provider = r.one("pulumi:providers:kubernetes").inputs as any;
      assert.equal(provider.kubeconfig, ADMIN_KUBECONFIG);
      assert.ok(r.calls.some((c) => c.token === "azure-native:containerservice:listManagedClusterAdminCredentials"));
      assert.deepEqual(r.one("pulumi:providers:kubernetes").secretPaths, ["kubeconfig"]);
      assert.equal(r.outputs.kubeconfig, ADMIN_KUBECONFIG);
      assert.deepEqual(r.secretOutputs, ["kubeconfig"], "the kubeconfig, and only it, is a secret output");
      for (const k of r.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
        assert.match(String(k.provider), /pulumi:providers:kubernetes::k8s::/, `${k.name} uses the cluster's provider`);
      }
    });

    it("puts every Kubernetes object under the app component", () => {
      const k8s = r.resources.filter((x) => x.type.startsWith("kubernetes:"));
      assert.equal(k8s.length, 6);
      assert.ok(k8s.every((x) => x.name.startsWith("adf-webhook-")));
    });

    it("exports the promised outputs", () => {
      const acrName = defaultRegistryName(SUBSCRIPTION_ID, "adf-webhook-aks", "test");
      assert.deepEqual(r.outputs, {
        imageRef: `${acrName}.azurecr.io/adf-webhook-api@${DIGEST}`,
        namespace: "adf-webhook",
        serviceName: "adf-webhook-api",
        endpoint: "http://adf-webhook-api.adf-webhook.svc.cluster.local:5002",
        webhookUrl: "http://localhost:5002/helloworld",
        portForwardCommand: "kubectl --namespace adf-webhook port-forward service/adf-webhook-api 5002:5002",
        clusterName: "aks5e6f7a8b",
        registryName: acrName,
        registryServer: `${acrName}.azurecr.io`,
        kubeconfig: ADMIN_KUBECONFIG,
        resourceGroupName: "rg1a2b3c4d",
        dataFactoryName: undefined,
        dataFactoryPipelineName: undefined,
      });
    });
  });

  it("registryAuth admin: the ACR's admin user is enabled and its credentials from listRegistryCredentials push, kept secret", async () => {
    const r = await run({ registryAuth: "admin" });
    assert.equal((r.one("azure-native:containerregistry:Registry").inputs as any).adminUserEnabled, true);
    const image = r.one("docker:index/image:Image").inputs as any;
    assert.ok(r.calls.some((c) => c.token === "azure-native:containerregistry:listRegistryCredentials"));
    assert.equal(image.registry.password, "acr-admin-password");
    assert.equal(image.registry.server, `${image.registry.username}.azurecr.io`);
    assert.deepEqual(r.one("docker:index/image:Image").secretPaths, ["registry"]);
    assert.ok(!r.azureRequests.some((q) => q.path.endsWith("/oauth2/exchange")));
  });

  it("registryAuth docker-login on a created ACR: its admin user stays off", async () => {
    const r = await run({ registryAuth: "docker-login" });
    assert.equal((r.one("azure-native:containerregistry:Registry").inputs as any).adminUserEnabled, false);
    assert.equal((r.one("docker:index/image:Image").inputs as any).registry, undefined);
  });

  describe("the image", () => {
    let r: Run;
    before(async () => {
      r = await run({ imageTag: "v7" });
    });

    it("builds api/ and only api/, for linux/amd64, by paths relative to the program's directory", () => {
      const build = (r.one("docker:index/image:Image").inputs as any).build;
      const root = path.resolve(import.meta.dirname, "..");
      const programDirectory = path.join(root, PROGRAM_DIRECTORY);
      assert.equal(programDirectory, import.meta.dirname, "the program is stack/");
      assert.equal(build.context, API_CONTEXT);
      assert.equal(build.dockerfile, API_DOCKERFILE);
      for (const p of [build.context, build.dockerfile]) {
        assert.ok(!path.isAbsolute(p) && !path.win32.isAbsolute(p), `${p} is relative`);
        assert.ok(!p.includes("\\"), `${p} uses / on every OS`);
      }
      // Resolved as the provider resolves them: against its working directory, the program's directory.
      assert.equal(path.resolve(programDirectory, build.context), path.join(root, "api"));
      assert.equal(path.resolve(programDirectory, build.dockerfile), path.join(root, "api", "Dockerfile"));
      assert.ok(fs.existsSync(path.resolve(programDirectory, build.dockerfile)), "api/Dockerfile exists");
      assert.equal(build.platform, "linux/amd64");
    });

    it("passes no build arguments by default, so the Dockerfile's pinned NODE_IMAGE applies", () => {
      assert.equal((r.one("docker:index/image:Image").inputs as any).build.args, undefined);
    });

    it("baseImage becomes the NODE_IMAGE build argument (a Docker Hub mirror, or the local platform's stand-in)", async () => {
      const mirrored = await run({ baseImage: "myacr.azurecr.io/library/node:24-bookworm-slim" });
      assert.deepEqual((mirrored.one("docker:index/image:Image").inputs as any).build.args, { NODE_IMAGE: "myacr.azurecr.io/library/node:24-bookworm-slim" });
      const dockerfile = fs.readFileSync(path.resolve(import.meta.dirname, API_DOCKERFILE), "utf8");
      assert.match(dockerfile, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m, "the Dockerfile reads NODE_IMAGE, with today's pin as its default");
      assert.ok(!/^# *syntax=/m.test(dockerfile), "no syntax directive: BuildKit would pull a frontend image before building");
    });

    it("imageBuildNetwork becomes the build's network (RUN steps on the host's network where the engine has no bridge)", async () => {
      assert.equal((r.one("docker:index/image:Image").inputs as any).build.network, undefined, "unset: the engine's default network");
      const onHost = await run({ imageBuildNetwork: "host" });
      assert.equal((onHost.one("docker:index/image:Image").inputs as any).build.network, "host");
    });

    it("the Deployment runs exactly the pushed repoDigest, never a tag", () => {
      const image = r.one("docker:index/image:Image");
      assert.match(String(image.inputs.imageName), /\.azurecr\.io\/adf-webhook-api:v7$/);
      assert.equal(containerOf(r).image, image.state.repoDigest);
      assert.equal(containerOf(r).image, r.outputs.imageRef);
      assert.match(containerOf(r).image, /^[a-z0-9]+\.azurecr\.io\/adf-webhook-api@sha256:[0-9a-f]{64}$/);
    });
  });

  describe("the Deployment", () => {
    let r: Run;
    before(async () => {
      r = await run({ fsGroup: "1000" });
    });

    it("replicas, rolling update without unavailability, spread across nodes", () => {
      const spec = deploymentOf(r).spec;
      assert.equal(spec.replicas, 2);
      assert.deepEqual(spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      const [spread] = podOf(r).topologySpreadConstraints;
      assert.equal(spread.topologyKey, "kubernetes.io/hostname");
      assert.deepEqual(spread.labelSelector.matchLabels, spec.selector.matchLabels);
    });

    it("port 5002 named http, metrics on 9464, liveness /healthz, readiness /readyz, a startup probe", () => {
      const c = containerOf(r);
      assert.deepEqual(c.ports, [
        { name: "http", containerPort: 5002, protocol: "TCP" },
        { name: "metrics", containerPort: 9464, protocol: "TCP" },
      ]);
      assert.equal(configMapOf(r).METRICS_PORT, "9464");
      assert.deepEqual(c.livenessProbe.httpGet, { path: "/healthz", port: "http" });
      assert.deepEqual(c.readinessProbe.httpGet, { path: "/readyz", port: "http" });
      assert.deepEqual(c.startupProbe.httpGet, { path: "/healthz", port: "http" });
      assert.ok(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds >= 30, "a startup budget of 30 s or more");
    });

    it("CPU and memory requests and limits", () => {
      assert.deepEqual(containerOf(r).resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: "1", memory: "256Mi" } });
    });

    it("meets the restricted Pod Security Standard, with a read-only root and /tmp as emptyDir", () => {
      const pod = podOf(r);
      const c = containerOf(r);
      assert.deepEqual(pod.securityContext, {
        runAsNonRoot: true,
        runAsUser: 1000,
        runAsGroup: 1000,
        fsGroup: 1000,
        seccompProfile: { type: "RuntimeDefault" },
      });
      assert.equal(c.securityContext.runAsNonRoot, true);
      assert.equal(c.securityContext.runAsUser, 1000);
      assert.equal(c.securityContext.runAsGroup, 1000);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] });
      assert.deepEqual(c.securityContext.seccompProfile, { type: "RuntimeDefault" });
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.deepEqual(c.volumeMounts, [{ name: "tmp", mountPath: "/tmp" }]);
      assert.deepEqual(pod.volumes, [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
      assert.equal(pod.hostNetwork, undefined);
      const ns = r.one("kubernetes:core/v1:Namespace").inputs as any;
      assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    });

    it("preStop sleeps, and the grace period covers preStop + DRAIN_TIMEOUT_MS + the API's wrap-up + a margin", () => {
      const c = containerOf(r);
      assert.deepEqual(c.lifecycle.preStop, { exec: { command: ["sleep", "5"] } });
      const drainSeconds = Number(configMapOf(r).DRAIN_TIMEOUT_MS) / 1000;
      // The wrap-up with the API's defaults: 33 rounds of a 10 s callback attempt, + 1 s (callbacks/policy.ts).
      assert.equal(podOf(r).terminationGracePeriodSeconds, 5 + drainSeconds + 331 + 5);
    });

    it("takes its environment from the ConfigMap and the Secret", () => {
      const cm = r.one("kubernetes:core/v1:ConfigMap").state as any;
      const secret = r.one("kubernetes:core/v1:Secret").state as any;
      assert.deepEqual(containerOf(r).envFrom, [{ configMapRef: { name: cm.metadata.name } }, { secretRef: { name: secret.metadata.name } }]);
    });

    it("a longer drain lengthens the grace period", async () => {
      const longer = await run({ drainTimeoutMs: "45000" });
      assert.equal(podOf(longer).terminationGracePeriodSeconds, 5 + 45 + 331 + 5);
      assert.equal(configMapOf(longer).DRAIN_TIMEOUT_MS, "45000");
    });
  });

  describe("the Service, the PDB and the HPA", () => {
    it("ClusterIP by default on 5002 -> http, selecting exactly the pods' labels", async () => {
      const r = await run({});
      const svc = r.one("kubernetes:core/v1:Service").inputs as any;
      assert.equal(svc.spec.type, "ClusterIP");
      assert.deepEqual(svc.spec.ports, [{ name: "http", port: 5002, targetPort: "http", protocol: "TCP" }]);
      assert.deepEqual(svc.spec.selector, deploymentOf(r).spec.template.metadata.labels);
      assert.deepEqual(svc.spec.selector, deploymentOf(r).spec.selector.matchLabels);
      const pdb = r.one("kubernetes:policy/v1:PodDisruptionBudget").inputs as any;
      assert.equal(pdb.spec.maxUnavailable, 1);
      assert.deepEqual(pdb.spec.selector.matchLabels, svc.spec.selector);
      assert.equal(r.ofType("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").length, 0);
    });

    it("exposure loadbalancer: a LoadBalancer Service; the endpoint and webhook URL use its IP", async () => {
      const r = await run({ exposure: "loadbalancer" });
      assert.equal((r.one("kubernetes:core/v1:Service").inputs as any).spec.type, "LoadBalancer");
      assert.equal(r.outputs.endpoint, `http://${LB_IP}:5002`);
      assert.equal(r.outputs.webhookUrl, `http://${LB_IP}:5002/helloworld`);
    });

    it("HPA (autoscaling/v2) on the Deployment, which then leaves replicas to it after the first apply", async () => {
      const r = await run({ hpaEnabled: "true", hpaMinReplicas: "3", hpaMaxReplicas: "8", hpaCpuUtilization: "65" });
      const hpa = r.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler").inputs as any;
      assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "adf-webhook-api" });
      assert.equal(hpa.spec.minReplicas, 3);
      assert.equal(hpa.spec.maxReplicas, 8);
      assert.deepEqual(hpa.spec.metrics, [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 65 } } }]);
      // Declared (never dropped: that would reset it to 1) but ignored on updates; see rollout.test.ts.
      assert.equal(deploymentOf(r).spec.replicas, 3);
      assert.deepEqual(r.one("kubernetes:apps/v1:Deployment").options.ignoreChanges, ["spec.replicas"]);
    });
  });

  describe("existing ACR and AKS", () => {
    let r: Run;
    before(async () => {
      r = await run(EXISTING);
    });

    it("creates no Azure resource but the AcrPull assignment, and looks both up", () => {
      assert.deepEqual(typesOf(r), ["azure-native:authorization:RoleAssignment", "docker:index/image:Image", ...K8S_CORE].sort());
      const tokens = r.calls.map((c) => c.token);
      assert.ok(tokens.includes("azure-native:containerregistry:getRegistry"));
      assert.ok(tokens.includes("azure-native:containerservice:getManagedCluster"));
      const grant = r.one("azure-native:authorization:RoleAssignment").inputs as any;
      assert.equal(grant.principalId, KUBELET_OBJECT_ID);
      assert.match(grant.scope, /resourceGroups\/rg-acr\/providers\/Microsoft\.ContainerRegistry\/registries\/myacr$/);
    });

    it("uses the existing names, the admin kubeconfig, and the image in the existing ACR", () => {
      const creds = r.calls.find((c) => c.token === "azure-native:containerservice:listManagedClusterAdminCredentials");
      assert.deepEqual(creds?.inputs, { resourceGroupName: "rg-aks", resourceName: "aks-prod" });
      assert.equal(r.outputs.clusterName, "aks-prod");
      assert.equal(r.outputs.registryName, "myacr");
      assert.equal(r.outputs.imageRef, `myacr.azurecr.io/adf-webhook-api@${DIGEST}`);
      assert.equal(containerOf(r).image, r.outputs.imageRef);
    });

    it("skips the AcrPull assignment when told the ACR is already attached", async () => {
      const attached = await run({ ...EXISTING, grantAcrPull: "false" });
      assert.equal(attached.ofType("azure-native:authorization:RoleAssignment").length, 0);
    });

    it("registryAuth docker-login: no credentials read, the host's docker login pushes", async () => {
      const login = await run({ ...EXISTING, registryAuth: "docker-login" });
      assert.equal((login.one("docker:index/image:Image").inputs as any).registry, undefined);
      assert.ok(!login.calls.some((c) => c.token === "azure-native:containerregistry:listRegistryCredentials"));
    });
  });

  describe("any cluster by kubeconfig, any registry", () => {
    it("touches no Azure at all", async () => {
      const r = await run(KUBE, KUBE_SECRETS);
      assert.deepEqual(typesOf(r), ["docker:index/image:Image", ...K8S_CORE].sort());
      assert.deepEqual(r.calls, []);
      const provider = r.one("pulumi:providers:kubernetes").inputs as any;
      assert.equal(provider.kubeconfig, KUBE_SECRETS.kubeconfig);
      assert.equal(provider.context, "kind-dev");
      assert.equal(r.outputs.imageRef, `localhost:5001/adf-webhook-api@${DIGEST}`);
      assert.equal(r.outputs.kubeconfig, undefined);
      assert.equal(r.outputs.clusterName, "kind-dev");
      assert.equal(r.outputs.registryServer, "localhost:5001");
      assert.equal((r.one("docker:index/image:Image").inputs as any).registry, undefined);
    });

    it("with registry credentials: pushes with them and pulls through an imagePullSecret", async () => {
      const r = await run({ ...KUBE, registryServer: "registry.example.com", registryUsername: "ci" }, { ...KUBE_SECRETS, registryPassword: "pw" });
      const image = r.one("docker:index/image:Image").inputs as any;
      assert.deepEqual(image.registry, { server: "registry.example.com", username: "ci", password: "pw" });
      const pull = r.ofType("kubernetes:core/v1:Secret").find((s) => (s.inputs as any).type === "kubernetes.io/dockerconfigjson") as Registration;
      assert.ok(pull);
      const auths = JSON.parse((pull.inputs as any).stringData[".dockerconfigjson"]).auths;
      assert.deepEqual(Object.keys(auths), ["registry.example.com"]);
      assert.deepEqual(podOf(r).imagePullSecrets, [{ name: (pull.state as any).metadata.name }]);
      assert.deepEqual(pull.secretPaths, ["stringData"]);
      assert.deepEqual(r.one("docker:index/image:Image").secretPaths, ["registry"]);
    });
  });

  describe("the API's settings and secrets", () => {
    it("basic auth: the username in the ConfigMap, the password only in the Secret", async () => {
      const r = await run({ authMode: "basic", basicAuthUsername: "adf", logLevel: "debug" }, { basicAuthPassword: "s3cret" });
      const cm = configMapOf(r);
      assert.equal(cm.AUTH_MODE, "basic");
      assert.equal(cm.BASIC_AUTH_USERNAME, "adf");
      assert.equal(cm.LOG_LEVEL, "debug");
      assert.equal(cm.BASIC_AUTH_PASSWORD, undefined);
      assert.ok(!JSON.stringify(cm).includes("s3cret"));
      const secret = r.one("kubernetes:core/v1:Secret");
      assert.deepEqual((secret.inputs as any).stringData, { BASIC_AUTH_PASSWORD: "s3cret" });
      assert.deepEqual(secret.secretPaths, ["stringData"]);
      // As the engine stores it (the e2e's state): the kubernetes provider's Check moves it into data.
      assert.deepEqual(secret.storedSecretPaths, ["data"]);
      assert.deepEqual((secret.state as any).data, { BASIC_AUTH_PASSWORD: Buffer.from("s3cret").toString("base64") });
      assert.equal("stringData" in secret.state, false);
    });

    it("without a secret setting, the Secret declares no stringData (an empty one was replaced on every up, rolling the pods)", async () => {
      const secret = (await run({})).one("kubernetes:core/v1:Secret");
      assert.equal("stringData" in secret.inputs, false);
      assert.deepEqual(secret.secretPaths, []);
    });

    it("sets CALLBACK_ALLOWED_HOSTS and the callback tuning only when configured", async () => {
      assert.equal("CALLBACK_ALLOWED_HOSTS" in configMapOf(await run({})), false);
      assert.equal(configMapOf(await run({ callbackAllowedHosts: ".example.com" })).CALLBACK_ALLOWED_HOSTS, ".example.com");
      const tuned = configMapOf(await run({ callbackMaxAttempts: "4", callbackTimeoutMs: "5000" }));
      assert.equal(tuned.CALLBACK_MAX_ATTEMPTS, "4");
      assert.equal(tuned.CALLBACK_TIMEOUT_MS, "5000");
      assert.equal("CALLBACK_RETRY_BASE_MS" in tuned, false);
    });
  });

  describe("Azure Data Factory", () => {
    it("is off by default", async () => {
      const r = await run({ exposure: "loadbalancer" });
      assert.equal(r.ofType("azure-native:datafactory:Factory").length, 0);
      assert.equal(r.ofType("azure-native:datafactory:Pipeline").length, 0);
    });

    it("entra: a factory with a managed identity that is the API's allowed caller, and MSI webhooks", async () => {
      const r = await run({
        exposure: "https",
        acmeEmail: "ops@example.com",
        dataFactory: "true",
        authMode: "entra",
        entraTenantId: TENANT,
        entraAudience: "api://adf-webhook",
      });
      const factory = r.one("azure-native:datafactory:Factory").inputs as any;
      assert.deepEqual(factory.identity, { type: "SystemAssigned" });
      assert.equal(factory.resourceGroupName, "rg1a2b3c4d");
      assert.equal(configMapOf(r).ENTRA_ALLOWED_CALLERS, ADF_PRINCIPAL_ID);
      assert.equal(configMapOf(r).ENTRA_AUDIENCE, "api://adf-webhook");

      const pipeline = r.one("azure-native:datafactory:Pipeline").inputs as any;
      assert.equal(pipeline.pipelineName, SAMPLE_PIPELINE_NAME);
      assert.deepEqual(
        pipeline.activities.map((a: any) => [a.name, a.type, a.method, a.url]),
        [
          ["HelloWorld", "WebHook", "POST", `${DEFAULT_HTTPS_ENDPOINT}/helloworld`],
          ["Simulate", "WebHook", "POST", `${DEFAULT_HTTPS_ENDPOINT}/simulate`],
        ],
      );
      for (const activity of pipeline.activities) {
        assert.deepEqual(activity.authentication, { type: "MSI", resource: "api://adf-webhook" });
        // JOB_TIMEOUT_MS (10 min) + the API's longest callback retrying with its defaults: 10 attempts of
        // 10 s, and up to 30 s (a receiver's Retry-After) before each of the 9 retries, 370 s.
        assert.equal(activity.timeout, "00:16:10");
      }
      assert.deepEqual(pipeline.activities[1].dependsOn, [{ activity: "HelloWorld", dependencyConditions: ["Succeeded"] }]);
      assert.equal(r.outputs.dataFactoryPipelineName, SAMPLE_PIPELINE_NAME);
    });

    it("entra: configured callers are kept next to the factory's identity", async () => {
      const caller = "55555555-5555-5555-5555-555555555555";
      const r = await run({
        exposure: "https",
        tlsSecretName: "adf-tls",
        hostname: "adf.example.com",
        dataFactory: "true",
        authMode: "entra",
        entraTenantId: TENANT,
        entraAudience: "api://adf-webhook",
        entraAllowedCallers: caller,
      });
      assert.equal(configMapOf(r).ENTRA_ALLOWED_CALLERS, `${caller},${ADF_PRINCIPAL_ID}`);
    });

    it("basic: the webhooks send the configured credentials; none: no authentication", async () => {
      const basic = await run(
        { exposure: "https", hostname: "adf.example.com", acmeEmail: "ops@example.com", dataFactory: "true", authMode: "basic", basicAuthUsername: "adf" },
        { basicAuthPassword: "s3cret" },
      );
      const [activity] = (basic.one("azure-native:datafactory:Pipeline").inputs as any).activities;
      assert.equal(activity.url, "https://adf.example.com/helloworld");
      assert.deepEqual(activity.authentication, { type: "Basic", username: "adf", password: { type: "SecureString", value: "s3cret" } });
      assert.deepEqual(basic.one("azure-native:datafactory:Pipeline").secretPaths, ["activities"], "the password stays secret in state");

      const none = await run({ exposure: "loadbalancer", dataFactory: "true" });
      const [open] = (none.one("azure-native:datafactory:Pipeline").inputs as any).activities;
      assert.equal(open.url, `http://${LB_IP}:5002/helloworld`);
      assert.equal(open.authentication, undefined);
      assert.equal(configMapOf(none).ENTRA_ALLOWED_CALLERS, undefined);
    });

    it("existing target: the factory goes to the cluster's resource group unless configured", async () => {
      const r = await run({ ...EXISTING, exposure: "loadbalancer", dataFactory: "true", dataFactoryName: "adf-demo" });
      const factory = r.one("azure-native:datafactory:Factory").inputs as any;
      assert.equal(factory.resourceGroupName, "rg-aks");
      assert.equal(factory.factoryName, "adf-demo");
      assert.equal(r.outputs.dataFactoryName, "adf-demo");
      assert.equal((r.one("azure-native:datafactory:Pipeline").inputs as any).resourceGroupName, "rg-aks");
      const configured = await run({ ...EXISTING, exposure: "loadbalancer", dataFactory: "true", dataFactoryResourceGroup: "rg-adf" });
      assert.equal((configured.one("azure-native:datafactory:Factory").inputs as any).resourceGroupName, "rg-adf");
    });

    it("the default resource group is what Pulumi.dev.yaml says it is (issue 20)", async () => {
      const dev = fs.readFileSync(path.join(import.meta.dirname, "..", "Pulumi.dev.yaml"), "utf8");
      // The comment above the key, up to it.
      const comment = /((?:^ *#.*\n)*?) *# adf-webhook-aks:dataFactoryResourceGroup:/m.exec(dev)?.[1] ?? "";
      assert.match(
        comment,
        /the group the stack creates \(targets new and containerapps\),\s*#?\s*appResourceGroup \(containerapps\) or clusterResourceGroup \(target existing, not registryResourceGroup\);\s*#?\s*required with target kubeconfig/,
      );
      const created = await run({ exposure: "loadbalancer", dataFactory: "true" });
      const group = created.one("azure-native:resources:ResourceGroup");
      assert.equal((created.one("azure-native:datafactory:Factory").inputs as any).resourceGroupName, (group.state as any).name);
      const existing = await run({ ...EXISTING, exposure: "loadbalancer", dataFactory: "true" });
      assert.equal((existing.one("azure-native:datafactory:Factory").inputs as any).resourceGroupName, EXISTING.clusterResourceGroup);
      assert.notEqual(EXISTING.clusterResourceGroup, EXISTING.registryResourceGroup);
      const apps = await run({ target: "containerapps", appResourceGroup: "rg-apps", dataFactory: "true" });
      assert.equal((apps.one("azure-native:datafactory:Factory").inputs as any).resourceGroupName, "rg-apps");
    });

    it("kubeconfig target: the factory goes to the configured resource group", async () => {
      const r = await run({ ...KUBE, exposure: "loadbalancer", dataFactory: "true", dataFactoryResourceGroup: "rg-adf" }, KUBE_SECRETS);
      assert.equal((r.one("azure-native:datafactory:Factory").inputs as any).resourceGroupName, "rg-adf");
      assert.equal((r.one("azure-native:datafactory:Pipeline").inputs as any).resourceGroupName, "rg-adf");
    });
  });

  it("ADF timespans", () => {
    assert.equal(adfTimeout(660_000), "00:11:00");
    assert.equal(adfTimeout(90_061_000), "1.01:01:01");
  });
});

describe("the settings' ConfigMap, named as Pulumi names it", () => {
  it("a changed setting is a new ConfigMap name the Deployment refers to, so the pods roll; the same settings keep the name", async () => {
    const kube = { target: "kubeconfig", registryServer: "localhost:5001" };
    const secrets = { kubeconfig: "apiVersion: v1\nkind: Config\n" };
    const nameIn = async (values: Record<string, string>) => {
      const r = await run(values, secrets);
      const name = String((r.one("kubernetes:core/v1:ConfigMap").state.metadata as { name: string }).name);
      const envFrom = (r.one("kubernetes:apps/v1:Deployment").inputs as any).spec.template.spec.containers[0].envFrom;
      assert.deepEqual(envFrom[0], { configMapRef: { name } });
      return name;
    };
    const info = await nameIn({ ...kube, logLevel: "info" });
    assert.equal(await nameIn({ ...kube, logLevel: "info" }), info);
    assert.notEqual(await nameIn({ ...kube, logLevel: "debug" }), info);
  });
  it("the object is annotated pulumi.com/autonamed, as the kubernetes provider annotates a name it chose (the e2e's state)", async () => {
    const r = await run({ target: "kubeconfig", registryServer: "localhost:5001" }, { kubeconfig: "apiVersion: v1\nkind: Config\n" });
    assert.equal((r.one("kubernetes:core/v1:ConfigMap").state.metadata as any).annotations["pulumi.com/autonamed"], "true");
    assert.equal((r.one("kubernetes:apps/v1:Deployment").state.metadata as any).annotations["pulumi.com/autonamed"], undefined, "a declared name");
  });
});

describe("the mocks' states, as the engine stores them (checked against it by the e2e)", () => {
  it("the image's state is what the docker provider returns, not its inputs; a provider's is its inputs; a component's is empty", async () => {
    const r = await run({ target: "kubeconfig", registryServer: "localhost:5001" }, { kubeconfig: "apiVersion: v1\nkind: Config\n" });
    assert.deepEqual(r.one("docker:index/image:Image").state, {
      imageName: "localhost:5001/adf-webhook-api:latest",
      baseImageName: "localhost:5001/adf-webhook-api:latest",
      registryServer: "",
      context: "../api",
      dockerfile: "Dockerfile",
      platform: "linux/amd64",
      repoDigest: `localhost:5001/adf-webhook-api@${DIGEST}`,
    });
    assert.deepEqual(r.one("pulumi:providers:kubernetes").state, r.one("pulumi:providers:kubernetes").inputs);
    assert.deepEqual(r.one("adf-webhook-aks:app:WebhookApp").state, {});
  });
});
