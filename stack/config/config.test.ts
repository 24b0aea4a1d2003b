import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import YAML from "yaml";

import { refusedNaming } from "../testing/config.js";
import { documentedConfigurations } from "../testing/configurations.js";
import { reader, resolve } from "../testing/harness.js";
import { loadConfig } from "./index.js";

const KUBE = { target: "kubeconfig", registryServer: "localhost:5001" };
const KUBE_SECRETS = { kubeconfig: "apiVersion: v1\nkind: Config\n" };
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CALLER = "33333333-3333-3333-3333-333333333333";

describe("stack config", () => {
  describe("defaults", () => {
    it("creates Azure resources with 2 replicas, exposure cluster (ClusterIP), no HPA, no Data Factory", () => {
      const config = loadConfig(reader({}));
      assert.equal(config.target.kind, "new");
      assert.equal(config.target.location, "westeurope");
      assert.equal(config.target.kind === "new" && config.target.nodeCount, 2);
      // The push authenticates as the deploying identity; the ACR admin user stays off (issue 9).
      assert.deepEqual(config.image, { repository: "adf-webhook-api", tag: "latest", registryAuth: "entra" });
      assert.equal(config.target.kind === "new" && config.target.clusterCredentials, "admin");
      assert.equal(config.app.replicas, 2);
      assert.deepEqual(config.exposure, { mode: "cluster" });
      assert.equal(config.app.namespace, "adf-webhook");
      assert.equal(config.app.hpa, undefined);
      assert.equal(config.dataFactory, undefined);
    });

    it("writes the API's settings into the pods' environment as the API reads them, leaving unset ones to the API", () => {
      const { api } = loadConfig(reader({}));
      assert.deepEqual(api.environment, {
        PORT: "5002",
        HOST: "0.0.0.0",
        METRICS_PORT: "9464",
        LOG_LEVEL: "info",
        BODY_LIMIT: "1mb",
        DRAIN_TIMEOUT_MS: "20000",
        JOB_TIMEOUT_MS: "600000",
        MAX_CONCURRENT_JOBS: "100",
        CALLBACK_ALLOW_INSECURE: "false",
        AUTH_MODE: "none",
      });
      assert.deepEqual(api.secrets, {});
      // What the API makes of them: its own defaults, CALLBACK_ALLOWED_HOSTS its cloud's.
      assert.equal(api.settings.MAX_QUEUED_JOBS, 1000);
      assert.deepEqual(api.settings.CALLBACK_ALLOWED_HOSTS, ["datafactory.azure.com", "azuresynapse.net"]);
    });

    it("passes azureCloud and entraRequiredRoles to the API as AZURE_CLOUD and ENTRA_REQUIRED_ROLES", () => {
      const entra = { authMode: "entra", entraTenantId: TENANT, entraAudience: "api://x", entraAllowedCallers: CALLER };
      const env = loadConfig(reader({ ...entra, azureCloud: "usgovernment", entraRequiredRoles: "Jobs.Run, Jobs.Admin" })).api.environment;
      assert.equal(env.AZURE_CLOUD, "usgovernment");
      assert.equal(env.ENTRA_REQUIRED_ROLES, "Jobs.Run,Jobs.Admin");
      assert.equal(loadConfig(reader({})).api.environment.AZURE_CLOUD, undefined, "unset: the API's default");
    });

    it("writes lists comma-joined, and sizes and numbers as typed", () => {
      const env = loadConfig(reader({ callbackAllowedHosts: ".example.com, hooks.example.org", bodyLimit: "1.5mb", maxOutputBytes: "2mb", maxQueuedJobs: "0" })).api.environment;
      assert.equal(env.CALLBACK_ALLOWED_HOSTS, ".example.com,hooks.example.org");
      assert.equal(env.BODY_LIMIT, "1.5mb");
      assert.equal(env.MAX_OUTPUT_BYTES, "2mb");
      assert.equal(env.MAX_QUEUED_JOBS, "0");
      assert.equal(loadConfig(reader({ callbackAllowedHosts: " , " })).api.environment.CALLBACK_ALLOWED_HOSTS, undefined, "a list of nothing is not set");
    });

    it("passes another authMode's keys on to nobody (and does not check them)", () => {
      const { api } = loadConfig(reader({ basicAuthUsername: "adf", entraTenantId: "contoso", entraAllowedCallers: "bob" }, { basicAuthPassword: "pw" }));
      assert.deepEqual(Object.keys(api.environment).filter((name) => /^(BASIC|ENTRA)_/.test(name)), []);
      assert.deepEqual(api.secrets, {});
    });
  });

  describe("shapes", () => {
    it("existing ACR and AKS by name and resource group", () => {
      const config = loadConfig(
        reader({ target: "existing", registryName: "myacr", registryResourceGroup: "rg-acr", clusterName: "aks1", clusterResourceGroup: "rg-aks" }),
      );
      assert.deepEqual(
        { ...config.target },
        {
          kind: "existing",
          location: "westeurope",
          registryName: "myacr",
          registryResourceGroup: "rg-acr",
          clusterName: "aks1",
          clusterResourceGroup: "rg-aks",
          grantAcrPull: true,
          clusterCredentials: "admin",
        },
      );
    });

    it("registry authentication and cluster credentials for AKS", () => {
      for (const registryAuth of ["entra", "admin", "docker-login"]) assert.equal(loadConfig(reader({ registryAuth })).image.registryAuth, registryAuth);
      for (const clusterCredentials of ["admin", "azurecli", "workloadidentity", "spn"]) {
        const config = loadConfig(reader({ clusterCredentials }));
        assert.equal(config.target.kind === "new" && config.target.clusterCredentials, clusterCredentials);
      }
    });

    it("kubeconfig: any registry, credentials optional and secret, docker login otherwise", async () => {
      const plain = loadConfig(reader(KUBE, KUBE_SECRETS));
      assert.equal(plain.image.registryAuth, "docker-login");
      const withCredentials = loadConfig(reader({ ...KUBE, registryUsername: "me" }, { ...KUBE_SECRETS, registryPassword: "pw" }));
      assert.equal(withCredentials.image.registryAuth, "credentials");
      assert.ok(withCredentials.target.kind === "kubeconfig");
      assert.equal(await resolve(withCredentials.target.registryPassword), "pw");
    });

    it("HPA with min, max and CPU target", () => {
      assert.deepEqual(loadConfig(reader({ hpaEnabled: "true" })).app.hpa, { minReplicas: 2, maxReplicas: 5, cpuUtilization: 70 });
      assert.deepEqual(
        loadConfig(reader({ hpaEnabled: "true", hpaMinReplicas: "3", hpaMaxReplicas: "9", hpaCpuUtilization: "60" })).app.hpa,
        { minReplicas: 3, maxReplicas: 9, cpuUtilization: 60 },
      );
    });

    it("basic auth: the username in the ConfigMap's settings, the password only as a secret", async () => {
      const config = loadConfig(reader({ authMode: "basic", basicAuthUsername: "adf" }, { basicAuthPassword: "s3cret" }));
      assert.equal(config.api.environment.BASIC_AUTH_USERNAME, "adf");
      assert.equal("BASIC_AUTH_PASSWORD" in config.api.environment, false);
      assert.equal(await resolve(config.api.secrets.BASIC_AUTH_PASSWORD), "s3cret");
    });

    it("entra: tenant, audiences and callers as lists", () => {
      const { settings } = loadConfig(
        reader({ authMode: "entra", entraTenantId: TENANT, entraAudience: "api://adf-webhook, 44444444-4444-4444-4444-444444444444", entraAllowedCallers: CALLER }),
      ).api;
      assert.equal(settings.ENTRA_TENANT_ID, TENANT);
      assert.deepEqual(settings.ENTRA_AUDIENCE, ["api://adf-webhook", "44444444-4444-4444-4444-444444444444"]);
      assert.deepEqual(settings.ENTRA_ALLOWED_CALLERS, [CALLER]);
    });

    it("Data Factory with a public entry (https or loadbalancer)", () => {
      const config = loadConfig(reader({ dataFactory: "true", exposure: "loadbalancer", dataFactoryName: "adf-demo" }));
      assert.deepEqual(loadConfig(reader({ dataFactory: "true", exposure: "https", acmeEmail: "ops@example.com" })).dataFactory, {
        name: undefined,
        resourceGroupName: undefined,
        location: "westeurope",
      });
      assert.deepEqual(config.dataFactory, { name: "adf-demo", resourceGroupName: undefined, location: "westeurope" });
    });
  });

  describe("errors name the key", () => {
    it("bad numbers, booleans and choices", () => {
      const message = refusedNaming(
        { replicas: "two", hpaEnabled: "yes", serviceType: "LoadBalancer", logLevel: "loud", drainTimeoutMs: "-1", target: "gke" },
        {},
        "replicas",
        "hpaEnabled",
        "serviceType",
        "logLevel",
        "drainTimeoutMs",
        "target",
      );
      assert.match(message, /replicas: must be a whole number between 1 and 100 \(got "two"\)/);
      assert.match(message, /serviceType: was replaced by exposure: remove it and set exposure to cluster .* \(got "LoadBalancer"\)/);
      assert.match(message, /target: must be one of new, existing, kubeconfig/);
      // A size the API would refuse at start-up (a pod that never starts): refused here, as the API reads it.
      assert.match(refusedNaming({ bodyLimit: "0kb" }, {}, "bodyLimit"), /bodyLimit: must be at least 1 byte/);
      assert.match(refusedNaming({ bodyLimit: "1 tb" }, {}, "bodyLimit"), /bodyLimit: must be a size such as/);
      // The API would refuse to start with a body limit its byte budget cannot hold.
      assert.match(refusedNaming({ bodyLimit: "64mb" }, {}, "bodyLimit"), /bodyLimit: must not exceed maxQueuedBytes/);
      assert.match(refusedNaming({ maxQueuedBytes: "1mb" }, {}, "maxQueuedBytes"), /maxQueuedBytes: must be at least 4000000 bytes/);
    });

    it("the backlog's limits (issue 20): maxQueuedJobs, maxPendingCallbacks, maxOutputBytes reach the API, within its bounds", () => {
      const env = loadConfig(reader({ maxQueuedJobs: "0", maxPendingCallbacks: "5000", maxOutputBytes: "2mb" })).api.environment;
      assert.equal(env.MAX_QUEUED_JOBS, "0", "0: no job waits for a slot");
      assert.equal(env.MAX_PENDING_CALLBACKS, "5000");
      assert.equal(env.MAX_OUTPUT_BYTES, "2mb");
      const unset = loadConfig(reader({})).api.environment;
      for (const key of ["MAX_QUEUED_JOBS", "MAX_PENDING_CALLBACKS", "MAX_OUTPUT_BYTES"] as const) assert.equal(unset[key], undefined, `${key}: the API's default`);
      assert.equal(loadConfig(reader({ maxQueuedJobs: "1000000", maxPendingCallbacks: "1" })).api.settings.MAX_QUEUED_JOBS, 1_000_000);
      refusedNaming({ maxQueuedJobs: "1000001", maxPendingCallbacks: "0", maxOutputBytes: "0" }, {}, "maxQueuedJobs", "maxPendingCallbacks", "maxOutputBytes");
      refusedNaming({ maxOutputBytes: "4 megs" }, {}, "maxOutputBytes");
      // The byte budget holds the largest output as well as the largest body: each named by what was set.
      assert.match(refusedNaming({ maxOutputBytes: "64mb" }, {}, "maxOutputBytes"), /maxOutputBytes: must not exceed maxQueuedBytes \(33554432 bytes\)/);
      assert.equal(loadConfig(reader({ maxOutputBytes: "64mb", maxQueuedBytes: "64mb" })).api.environment.MAX_OUTPUT_BYTES, "64mb");
      assert.equal(loadConfig(reader({ maxOutputBytes: "512kb", maxQueuedBytes: "1mb" })).api.environment.MAX_QUEUED_BYTES, "1mb", "a smaller output lets the budget shrink");
      // A budget lowered below its default is named, with what it must hold.
      const message = refusedNaming({ maxOutputBytes: "512kb", maxQueuedBytes: "256kb" }, {}, "maxQueuedBytes");
      assert.match(message, /maxQueuedBytes: must be at least 1048576 bytes, to hold bodyLimit; must be at least 524288 bytes, to hold maxOutputBytes \(got "256kb"\)/);
    });

    it("bounds: the API's own for drainTimeoutMs and jobTimeoutMs; AKS's for nodeCount; the HPA's for replicas", () => {
      const ok = (values: Record<string, string>) => loadConfig(reader(values));
      assert.equal(ok({ drainTimeoutMs: "3600000" }).api.settings.DRAIN_TIMEOUT_MS, 3_600_000);
      assert.equal(ok({ drainTimeoutMs: "0" }).api.settings.DRAIN_TIMEOUT_MS, 0);
      assert.equal(ok({ jobTimeoutMs: "1" }).api.settings.JOB_TIMEOUT_MS, 1);
      assert.equal(ok({ jobTimeoutMs: "604800000" }).api.settings.JOB_TIMEOUT_MS, 604_800_000);
      refusedNaming({ drainTimeoutMs: "3600001", jobTimeoutMs: "0" }, {}, "drainTimeoutMs", "jobTimeoutMs");
      refusedNaming({ jobTimeoutMs: "604800001" }, {}, "jobTimeoutMs");
      const target = ok({ nodeCount: "1000" }).target;
      assert.equal(target.kind === "new" && target.nodeCount, 1000);
      assert.match(refusedNaming({ nodeCount: "1001" }, {}, "nodeCount"), /between 1 and 1000/);
      refusedNaming({ nodeCount: "0" }, {}, "nodeCount");
      assert.equal(ok({ replicas: "100" }).app.replicas, 100);
      assert.match(refusedNaming({ replicas: "101" }, {}, "replicas"), /between 1 and 100/);
      assert.match(refusedNaming({ hpaEnabled: "true", hpaMaxReplicas: "101" }, {}, "hpaMaxReplicas"), /between 1 and 100/, "the HPA's range is the same");
    });

    it("existing target without names", () => {
      refusedNaming({ target: "existing" }, {}, "registryName", "registryResourceGroup", "clusterName", "clusterResourceGroup");
    });

    it("kubeconfig target without a kubeconfig or a registry, or with half the credentials", () => {
      const message = refusedNaming({ target: "kubeconfig" }, {}, "kubeconfig", "registryServer");
      assert.match(message, /pulumi config set --secret kubeconfig/);
      refusedNaming({ ...KUBE, registryUsername: "me" }, KUBE_SECRETS, "registryPassword");
      refusedNaming({ ...KUBE, registryAuth: "admin" }, KUBE_SECRETS, "registryAuth");
      refusedNaming({ ...KUBE, clusterCredentials: "azurecli" }, KUBE_SECRETS, "clusterCredentials");
      refusedNaming({ registryAuth: "password" }, {}, "registryAuth");
      refusedNaming({ clusterCredentials: "devicecode" }, {}, "clusterCredentials");
    });

    it("basic auth without credentials", () => {
      const message = refusedNaming({ authMode: "basic" }, {}, "basicAuthUsername", "basicAuthPassword");
      assert.match(message, /pulumi config set --secret basicAuthPassword/);
    });

    it("entra without tenant or audience, or with a bad caller id", () => {
      refusedNaming({ authMode: "entra" }, {}, "entraTenantId", "entraAudience", "entraAllowedCallers");
      refusedNaming({ authMode: "entra", entraTenantId: "contoso", entraAudience: "api://x", entraAllowedCallers: "bob" }, {}, "entraTenantId", "entraAllowedCallers");
    });

    it("URL and host settings judged as the API judges them: parsed, https, no user, no bare top-level domain", () => {
      const entra = { authMode: "entra", entraTenantId: TENANT, entraAudience: "api://x", entraAllowedCallers: CALLER };
      for (const uri of ["https://localhost:80@evil.example/keys", "http://login.microsoftonline.com/keys", "login.microsoftonline.com/keys"]) {
        refusedNaming({ ...entra, entraJwksUri: uri }, {}, "entraJwksUri");
      }
      for (const hosts of ["com", "datafactory.azure.com,net", "https://datafactory.azure.com", "10.0.0.1", "a.example:443"]) {
        refusedNaming({ callbackAllowedHosts: hosts }, {}, "callbackAllowedHosts");
      }
      refusedNaming({ azureCloud: "germany" }, {}, "azureCloud");
    });

    it("Data Factory needs a public entry (exposure https or loadbalancer)", () => {
      const message = refusedNaming({ dataFactory: "true" }, {}, "dataFactory");
      assert.match(message, /needs a public endpoint: set exposure to https \(or loadbalancer\)/);
    });

    it("Data Factory with a kubeconfig target needs a resource group", () => {
      refusedNaming({ ...KUBE, dataFactory: "true", exposure: "loadbalancer" }, KUBE_SECRETS, "dataFactoryResourceGroup");
    });

    it("insecure callbacks only on a local (kubeconfig) cluster", () => {
      const message = refusedNaming({ callbackAllowInsecure: "true" }, {}, "callbackAllowInsecure");
      assert.match(message, /never in a real cluster/);
      assert.equal(loadConfig(reader({ ...KUBE, callbackAllowInsecure: "true" }, KUBE_SECRETS)).api.settings.CALLBACK_ALLOW_INSECURE, true);
    });

    it("callbackTestReceiver: one http origin, as the API judges it, only on a local (kubeconfig) cluster", () => {
      const message = refusedNaming({ callbackTestReceiver: "http://10.244.0.1:8099" }, {}, "callbackTestReceiver");
      assert.match(message, /never in a real cluster/);
      for (const bad of ["http://rehearsal.local:8099", "https://10.244.0.1:8099", "http://10.244.0.1", "http://10.244.0.1:8099/cb", "http://169.254.169.254:80"]) {
        refusedNaming({ ...KUBE, callbackTestReceiver: bad }, KUBE_SECRETS, "callbackTestReceiver");
      }
      assert.equal(loadConfig(reader({ ...KUBE, callbackTestReceiver: "http://172.18.0.1:8099" }, KUBE_SECRETS)).api.settings.CALLBACK_TEST_RECEIVER, "http://172.18.0.1:8099");
      assert.equal(loadConfig(reader({ ...KUBE }, KUBE_SECRETS)).api.settings.CALLBACK_TEST_RECEIVER, undefined);
    });

    it("quantities, names and HPA bounds", () => {
      refusedNaming(
        { cpuLimit: "lots", memoryRequest: "128MB", namespace: "My_NS", registryName: "my-acr", hpaEnabled: "true", hpaMinReplicas: "4", hpaMaxReplicas: "3" },
        {},
        "cpuLimit",
        "memoryRequest",
        "namespace",
        "registryName",
        "hpaMaxReplicas",
      );
    });
  });
});

describe("stack config: target containerapps", () => {
  const ACA = { target: "containerapps" };

  it("creates everything by default: a group, a registry, an environment; https; 0.5 vCPU and 1 GiB", () => {
    const config = loadConfig(reader(ACA));
    assert.deepEqual(config.target, {
      kind: "containerapps",
      location: "westeurope",
      resourceGroup: { kind: "create", name: undefined },
      registry: { kind: "create", name: undefined },
      environment: { kind: "create", name: undefined },
      resources: { cpu: 0.5, memory: "1Gi" },
    });
    assert.deepEqual(config.exposure, { mode: "ingress", allowedSourceRanges: undefined });
    assert.deepEqual(loadConfig(reader({ ...ACA, exposure: "https", allowedSourceRanges: "203.0.113.0/24" })).exposure, { mode: "ingress", allowedSourceRanges: ["203.0.113.0/24"] });
    for (const [cpu, memory] of [["0.25", "0.5Gi"], ["1.75", "3.5Gi"], ["4", "8Gi"]]) {
      const target = loadConfig(reader({ ...ACA, containerAppCpu: cpu })).target;
      assert.deepEqual(target.kind === "containerapps" && target.resources, { cpu: Number(cpu), memory });
    }
  });

  it("brings an existing group, registry and environment by name and group", () => {
    const target = loadConfig(
      reader({ ...ACA, appResourceGroup: "rg-apps", registryName: "myacr", registryResourceGroup: "rg-shared", environmentName: "cae-shared", environmentResourceGroup: "rg-platform" }),
    ).target;
    assert.ok(target.kind === "containerapps");
    assert.deepEqual(target.resourceGroup, { kind: "existing", name: "rg-apps" });
    assert.deepEqual(target.registry, { kind: "existing", name: "myacr", resourceGroupName: "rg-shared" });
    assert.deepEqual(target.environment, { kind: "existing", name: "cae-shared", resourceGroupName: "rg-platform" });
  });

  it("refuses what it cannot bring or run, naming the key", () => {
    refusedNaming({ ...ACA, registryResourceGroup: "rg", environmentResourceGroup: "rg", resourceGroupName: "a", appResourceGroup: "b" }, {}, "registryName", "environmentName", "resourceGroupName");
    for (const cpu of ["0", "0.3", "4.25", "half", "1,5"]) assert.match(refusedNaming({ ...ACA, containerAppCpu: cpu }, {}, "containerAppCpu"), /containerAppCpu: must be/);
    refusedNaming({ ...ACA, environmentName: "Cae_Shared" }, {}, "environmentName");
    // Container Apps' own name rule, on the key the Kubernetes targets read as a DNS label.
    for (const name of ["adf--api", "1adf", `a${"b".repeat(32)}`, "adf-"]) assert.match(refusedNaming({ ...ACA, appName: name }, {}, "appName"), /a Container App name/);
    assert.equal(loadConfig(reader({ ...ACA, appName: `a${"b".repeat(31)}` })).app.name.length, 32);
    assert.equal(loadConfig(reader({ appName: "adf--api" })).app.name, "adf--api", "a DNS label on Kubernetes");
    assert.match(refusedNaming({ ...ACA, fsGroup: "2000" }, {}, "fsGroup"), /Kubernetes pods only/);
    assert.match(refusedNaming({ ...ACA, clusterCredentials: "azurecli" }, {}, "clusterCredentials"), /no cluster/);
  });

  it("refuses its keys with the other targets", () => {
    const others: Record<string, string>[] = [{}, { target: "existing", registryName: "myacr", registryResourceGroup: "rg", clusterName: "aks", clusterResourceGroup: "rg" }];
    for (const other of others) {
      const message = refusedNaming({ ...other, appResourceGroup: "rg", environmentName: "cae", environmentResourceGroup: "rg", containerAppCpu: "1" }, {}, "appResourceGroup", "environmentName", "environmentResourceGroup", "containerAppCpu");
      assert.match(message, /applies to target containerapps only/);
    }
    refusedNaming({ ...KUBE, containerAppCpu: "1" }, KUBE_SECRETS, "containerAppCpu");
  });

  it("is reached through its own HTTPS ingress: no other exposure, none of the Kubernetes entry's keys, IPv4 ranges only", () => {
    for (const exposure of ["cluster", "loadbalancer"]) {
      assert.match(refusedNaming({ ...ACA, exposure }, {}, "exposure"), /exposure: target containerapps is reached through the Container App's own HTTPS ingress/);
    }
    for (const key of ["acmeEmail", "tlsSecretName", "hostname", "dnsLabel", "gatewayClassName"]) {
      assert.match(refusedNaming({ ...ACA, [key]: "x" }, {}, key), /own ingress and certificate/);
    }
    refusedNaming({ ...ACA, allowPlainHttp: "true" }, {}, "allowPlainHttp");
    const message = refusedNaming({ ...ACA, allowedSourceRanges: "203.0.113.0/24, 2001:db8::/32" }, {}, "allowedSourceRanges");
    assert.match(message, /allowedSourceRanges: must be IPv4 CIDRs: Container Apps' ingress takes no IPv6 range \(2001:db8::\/32\)/);
    refusedNaming({ ...ACA, allowedSourceRanges: "203.0.113.0/33" }, {}, "allowedSourceRanges");
  });

  it("refuses an API whose stop cannot fit in Container Apps' 600 s grace period, naming the keys set", () => {
    // The defaults: 20 s drain + 331 s wrap-up + 5 s margin = 356 s.
    assert.equal(loadConfig(reader(ACA)).target.kind, "containerapps");
    const message = refusedNaming({ ...ACA, callbackTimeoutMs: "30000" }, {}, "callbackTimeoutMs");
    assert.match(message, /with target containerapps the API may take 1016 s to stop \(drainTimeoutMs: 20 s, then the wrap-up: .* = 991 s, and a 5 s margin\), more than the 600 s Container Apps waits/);
    assert.match(message, /\(terminationGracePeriodSeconds\): lower drainTimeoutMs, callbackTimeoutMs, maxPendingCallbacks, maxConcurrentJobs or maxQueuedJobs \(got "30000"\)$/m);
    refusedNaming({ ...ACA, drainTimeoutMs: "300000", maxQueuedJobs: "5000" }, {}, "drainTimeoutMs", "maxQueuedJobs");
    // The same on Kubernetes: no such limit there.
    assert.equal(loadConfig(reader({ callbackTimeoutMs: "30000" })).api.settings.CALLBACK_TIMEOUT_MS, 30_000);
    // 600 s exactly fits: 20 + ceil(2100 / 64) x 17.3 s + 1 s + 5 = 597 s.
    assert.equal(loadConfig(reader({ ...ACA, callbackTimeoutMs: "17300" })).api.settings.CALLBACK_TIMEOUT_MS, 17_300);
  });
});

describe("Pulumi.dev.yaml", () => {
  const file = fs.readFileSync(path.join(import.meta.dirname, "..", "..", "Pulumi.dev.yaml"), "utf8");
  const PREFIX = "adf-webhook-aks:";

  it("is a valid configuration, and sets no secret in clear", () => {
    const config = (YAML.parse(file) as { config: Record<string, string> }).config;
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
      assert.ok(key.startsWith(PREFIX), `${key} is the project's`);
      assert.equal(typeof value, "string", `${key} is a string (quote numbers and booleans)`);
      values[key.slice(PREFIX.length)] = value;
    }
    for (const secretKey of ["basicAuthPassword", "registryPassword", "kubeconfig"]) assert.equal(values[secretKey], undefined);
    assert.deepEqual(loadConfig(reader(values)), loadConfig(reader({})), "the file spells out the defaults");
  });

  it("documents every key the program reads, and no other", () => {
    const documented = new Set([...file.matchAll(/adf-webhook-aks:(\w+)/g)].map((m) => m[1]));
    for (const m of file.matchAll(/config set --secret (\w+)/g)) documented.add(m[1]);
    // What the program reads for every documented configuration (together they take every branch).
    const read = new Set<string>();
    for (const { values, secrets } of documentedConfigurations()) loadConfig(reader(values, secrets, read));
    assert.deepEqual([...documented].sort(), [...read].sort());
  });
});

describe("stack config: baseImage", () => {
  it("is unset by default and, when set, must be an image reference", () => {
    assert.equal(loadConfig(reader({})).image.baseImage, undefined);
    const digest = `sha256:${"0".repeat(64)}`;
    for (const ok of ["node:24-bookworm-slim", "127.0.0.1:5000/library/node:24-bookworm-slim", `myacr.azurecr.io/library/node@${digest}`]) {
      assert.equal(loadConfig(reader({ baseImage: ok })).image.baseImage, ok);
    }
    for (const bad of ["node 24", "Node:24", "node:24;rm -rf /", "$(id)", "node:"]) refusedNaming({ baseImage: bad }, {}, "baseImage");
  });
});

describe("stack config: imageBuildNetwork", () => {
  it("is unset by default and, when set, is a network mode BuildKit accepts for RUN steps", () => {
    assert.equal(loadConfig(reader({})).image.buildNetwork, undefined);
    for (const ok of ["host", "none", "default"] as const) assert.equal(loadConfig(reader({ imageBuildNetwork: ok })).image.buildNetwork, ok);
    // BuildKit refuses a named network ("network mode ... not supported by buildkit"): said here, before a build.
    for (const bad of ["bridge", "my-net", "HOST"]) refusedNaming({ imageBuildNetwork: bad }, {}, "imageBuildNetwork");
  });
});
