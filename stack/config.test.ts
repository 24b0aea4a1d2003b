import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import YAML from "yaml";

import { ConfigError, loadConfig, terminationGracePeriodSeconds, toEnvironment } from "./config.js";
import { reader, resolve } from "./testing/harness.js";

const KUBE = { target: "kubeconfig", registryServer: "localhost:5001" };
const KUBE_SECRETS = { kubeconfig: "apiVersion: v1\nkind: Config\n" };
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CALLER = "33333333-3333-3333-3333-333333333333";

/** Asserts that loading fails, and that the message names every given key. */
function failsNaming(values: Record<string, string>, secrets: Record<string, string>, ...keys: string[]): string {
  let message = "";
  assert.throws(
    () => loadConfig(reader(values, secrets)),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, "a ConfigError");
      message = error.message;
      return true;
    },
  );
  for (const key of keys) assert.match(message, new RegExp(`- ${key}: `), `names ${key}: ${message}`);
  return message;
}

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

    it("has the API's documented defaults, and leaves CALLBACK_ALLOWED_HOSTS to the API", () => {
      const { api, apiSecrets } = loadConfig(reader({}));
      assert.deepEqual(api, {
        PORT: 5002,
        HOST: "0.0.0.0",
        METRICS_PORT: 9464,
        LOG_LEVEL: "info",
        BODY_LIMIT: "1mb",
        DRAIN_TIMEOUT_MS: 20000,
        JOB_TIMEOUT_MS: 600000,
        MAX_CONCURRENT_JOBS: 100,
        MAX_QUEUED_JOBS: undefined,
        MAX_PENDING_CALLBACKS: undefined,
        CALLBACK_ALLOWED_HOSTS: undefined,
        CALLBACK_ALLOW_INSECURE: false,
        CALLBACK_TIMEOUT_MS: undefined,
        CALLBACK_MAX_ATTEMPTS: undefined,
        CALLBACK_RETRY_BASE_MS: undefined,
        AUTH_MODE: "none",
      });
      assert.deepEqual(apiSecrets, {});
    });

    it("passes azureCloud and entraRequiredRoles to the API as AZURE_CLOUD and ENTRA_REQUIRED_ROLES", () => {
      const entra = { authMode: "entra", entraTenantId: TENANT, entraAudience: "api://x", entraAllowedCallers: CALLER };
      const env = toEnvironment(loadConfig(reader({ ...entra, azureCloud: "usgovernment", entraRequiredRoles: "Jobs.Run, Jobs.Admin" })).api);
      assert.equal(env.AZURE_CLOUD, "usgovernment");
      assert.equal(env.ENTRA_REQUIRED_ROLES, "Jobs.Run,Jobs.Admin");
      assert.equal(toEnvironment(loadConfig(reader({})).api).AZURE_CLOUD, undefined, "unset: the API's default");
    });

    it("turns settings into environment variables without listing their names again", () => {
      const env = toEnvironment(loadConfig(reader({ callbackAllowedHosts: ".example.com, hooks.example.org" })).api);
      assert.deepEqual(env, {
        PORT: "5002",
        HOST: "0.0.0.0",
        METRICS_PORT: "9464",
        LOG_LEVEL: "info",
        BODY_LIMIT: "1mb",
        DRAIN_TIMEOUT_MS: "20000",
        JOB_TIMEOUT_MS: "600000",
        MAX_CONCURRENT_JOBS: "100",
        CALLBACK_ALLOWED_HOSTS: ".example.com,hooks.example.org",
        CALLBACK_ALLOW_INSECURE: "false",
        AUTH_MODE: "none",
      });
    });

    it("derives terminationGracePeriodSeconds: preStop + drain + the API's wrap-up + margin", () => {
      // Wrap-up: ceil((pending callbacks + running + queued jobs) / 64 sockets) rounds of CALLBACK_TIMEOUT_MS, + 1 s.
      // Defaults: ceil(2100 / 64) = 33 rounds of 10 s, 331 s.
      assert.equal(terminationGracePeriodSeconds({ DRAIN_TIMEOUT_MS: 20_000, MAX_CONCURRENT_JOBS: 100 }), 5 + 20 + 331 + 5);
      const small = { MAX_CONCURRENT_JOBS: 64, MAX_QUEUED_JOBS: 0, MAX_PENDING_CALLBACKS: 64, CALLBACK_TIMEOUT_MS: 5_000 };
      assert.equal(terminationGracePeriodSeconds({ DRAIN_TIMEOUT_MS: 45_500, ...small }), 5 + 46 + 11 + 5);
      assert.equal(
        terminationGracePeriodSeconds(loadConfig(reader({ drainTimeoutMs: "60000", maxQueuedJobs: "0", maxPendingCallbacks: "28", callbackTimeoutMs: "2000" })).api),
        5 + 60 + 2 * 2 + 1 + 5,
      );
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
      assert.equal(config.api.BASIC_AUTH_USERNAME, "adf");
      assert.equal("BASIC_AUTH_PASSWORD" in config.api, false);
      assert.equal(await resolve(config.apiSecrets.BASIC_AUTH_PASSWORD), "s3cret");
    });

    it("entra: tenant, audiences and callers as lists", () => {
      const { api } = loadConfig(
        reader({ authMode: "entra", entraTenantId: TENANT, entraAudience: "api://adf-webhook, 44444444-4444-4444-4444-444444444444", entraAllowedCallers: CALLER }),
      );
      assert.equal(api.ENTRA_TENANT_ID, TENANT);
      assert.deepEqual(api.ENTRA_AUDIENCE, ["api://adf-webhook", "44444444-4444-4444-4444-444444444444"]);
      assert.deepEqual(api.ENTRA_ALLOWED_CALLERS, [CALLER]);
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
      const message = failsNaming(
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
      assert.match(failsNaming({ bodyLimit: "0kb" }, {}, "bodyLimit"), /bodyLimit: must be at least 1 byte/);
      assert.match(failsNaming({ bodyLimit: "1 tb" }, {}, "bodyLimit"), /bodyLimit: must be a size such as/);
      // The API would refuse to start with a body limit its byte budget cannot hold.
      assert.match(failsNaming({ bodyLimit: "64mb" }, {}, "bodyLimit"), /bodyLimit: must not exceed maxQueuedBytes/);
      assert.match(failsNaming({ maxQueuedBytes: "1mb" }, {}, "maxQueuedBytes"), /maxQueuedBytes: must be at least 4000000 bytes/);
    });

    it("the backlog's limits (issue 20): maxQueuedJobs, maxPendingCallbacks, maxOutputBytes reach the API, within its bounds", () => {
      const env = toEnvironment(loadConfig(reader({ maxQueuedJobs: "0", maxPendingCallbacks: "5000", maxOutputBytes: "2mb" })).api);
      assert.equal(env.MAX_QUEUED_JOBS, "0", "0: no job waits for a slot");
      assert.equal(env.MAX_PENDING_CALLBACKS, "5000");
      assert.equal(env.MAX_OUTPUT_BYTES, "2mb");
      const unset = toEnvironment(loadConfig(reader({})).api);
      for (const key of ["MAX_QUEUED_JOBS", "MAX_PENDING_CALLBACKS", "MAX_OUTPUT_BYTES"]) assert.equal(unset[key], undefined, `${key}: the API's default`);
      assert.equal(loadConfig(reader({ maxQueuedJobs: "1000000", maxPendingCallbacks: "1" })).api.MAX_QUEUED_JOBS, 1_000_000);
      failsNaming({ maxQueuedJobs: "1000001", maxPendingCallbacks: "0", maxOutputBytes: "0" }, {}, "maxQueuedJobs", "maxPendingCallbacks", "maxOutputBytes");
      failsNaming({ maxOutputBytes: "4 megs" }, {}, "maxOutputBytes");
      // The byte budget holds the largest output as well as the largest body: each named by what was set.
      assert.match(failsNaming({ maxOutputBytes: "64mb" }, {}, "maxOutputBytes"), /maxOutputBytes: must not exceed maxQueuedBytes \(33554432 bytes\)/);
      assert.equal(loadConfig(reader({ maxOutputBytes: "64mb", maxQueuedBytes: "64mb" })).api.MAX_OUTPUT_BYTES, "64mb");
      assert.equal(loadConfig(reader({ maxOutputBytes: "512kb", maxQueuedBytes: "1mb" })).api.MAX_QUEUED_BYTES, "1mb", "a smaller output lets the budget shrink");
      assert.match(failsNaming({ maxOutputBytes: "512kb", maxQueuedBytes: "256kb" }, {}, "maxOutputBytes"), /must not exceed maxQueuedBytes \(262144 bytes\)/);
    });

    it("bounds: the API's own for drainTimeoutMs and jobTimeoutMs; AKS's for nodeCount; the HPA's for replicas", () => {
      const ok = (values: Record<string, string>) => loadConfig(reader(values));
      assert.equal(ok({ drainTimeoutMs: "3600000" }).api.DRAIN_TIMEOUT_MS, 3_600_000);
      assert.equal(ok({ drainTimeoutMs: "0" }).api.DRAIN_TIMEOUT_MS, 0);
      assert.equal(ok({ jobTimeoutMs: "1" }).api.JOB_TIMEOUT_MS, 1);
      assert.equal(ok({ jobTimeoutMs: "604800000" }).api.JOB_TIMEOUT_MS, 604_800_000);
      failsNaming({ drainTimeoutMs: "3600001", jobTimeoutMs: "0" }, {}, "drainTimeoutMs", "jobTimeoutMs");
      failsNaming({ jobTimeoutMs: "604800001" }, {}, "jobTimeoutMs");
      const target = ok({ nodeCount: "1000" }).target;
      assert.equal(target.kind === "new" && target.nodeCount, 1000);
      assert.match(failsNaming({ nodeCount: "1001" }, {}, "nodeCount"), /between 1 and 1000/);
      failsNaming({ nodeCount: "0" }, {}, "nodeCount");
      assert.equal(ok({ replicas: "100" }).app.replicas, 100);
      assert.match(failsNaming({ replicas: "101" }, {}, "replicas"), /between 1 and 100/);
      assert.match(failsNaming({ hpaEnabled: "true", hpaMaxReplicas: "101" }, {}, "hpaMaxReplicas"), /between 1 and 100/, "the HPA's range is the same");
    });

    it("existing target without names", () => {
      failsNaming({ target: "existing" }, {}, "registryName", "registryResourceGroup", "clusterName", "clusterResourceGroup");
    });

    it("kubeconfig target without a kubeconfig or a registry, or with half the credentials", () => {
      const message = failsNaming({ target: "kubeconfig" }, {}, "kubeconfig", "registryServer");
      assert.match(message, /pulumi config set --secret kubeconfig/);
      failsNaming({ ...KUBE, registryUsername: "me" }, KUBE_SECRETS, "registryPassword");
      failsNaming({ ...KUBE, registryAuth: "admin" }, KUBE_SECRETS, "registryAuth");
      failsNaming({ ...KUBE, clusterCredentials: "azurecli" }, KUBE_SECRETS, "clusterCredentials");
      failsNaming({ registryAuth: "password" }, {}, "registryAuth");
      failsNaming({ clusterCredentials: "devicecode" }, {}, "clusterCredentials");
    });

    it("basic auth without credentials", () => {
      const message = failsNaming({ authMode: "basic" }, {}, "basicAuthUsername", "basicAuthPassword");
      assert.match(message, /pulumi config set --secret basicAuthPassword/);
    });

    it("entra without tenant or audience, or with a bad caller id", () => {
      failsNaming({ authMode: "entra" }, {}, "entraTenantId", "entraAudience", "entraAllowedCallers");
      failsNaming({ authMode: "entra", entraTenantId: "contoso", entraAudience: "api://x", entraAllowedCallers: "bob" }, {}, "entraTenantId", "entraAllowedCallers");
    });

    it("URL and host settings judged as the API judges them: parsed, https, no user, no bare top-level domain", () => {
      const entra = { authMode: "entra", entraTenantId: TENANT, entraAudience: "api://x", entraAllowedCallers: CALLER };
      for (const uri of ["https://localhost:80@evil.example/keys", "http://login.microsoftonline.com/keys", "login.microsoftonline.com/keys"]) {
        failsNaming({ ...entra, entraJwksUri: uri }, {}, "entraJwksUri");
      }
      for (const hosts of ["com", "datafactory.azure.com,net", "https://datafactory.azure.com", "10.0.0.1", "a.example:443"]) {
        failsNaming({ callbackAllowedHosts: hosts }, {}, "callbackAllowedHosts");
      }
      failsNaming({ azureCloud: "germany" }, {}, "azureCloud");
    });

    it("Data Factory needs a public entry (exposure https or loadbalancer)", () => {
      const message = failsNaming({ dataFactory: "true" }, {}, "dataFactory");
      assert.match(message, /needs a public endpoint: set exposure to https \(or loadbalancer\)/);
    });

    it("Data Factory with a kubeconfig target needs a resource group", () => {
      failsNaming({ ...KUBE, dataFactory: "true", exposure: "loadbalancer" }, KUBE_SECRETS, "dataFactoryResourceGroup");
    });

    it("insecure callbacks only on a local (kubeconfig) cluster", () => {
      const message = failsNaming({ callbackAllowInsecure: "true" }, {}, "callbackAllowInsecure");
      assert.match(message, /never in a real cluster/);
      assert.equal(loadConfig(reader({ ...KUBE, callbackAllowInsecure: "true" }, KUBE_SECRETS)).api.CALLBACK_ALLOW_INSECURE, true);
    });

    it("callbackTestReceiver: one private http origin, only on a local (kubeconfig) cluster", () => {
      const message = failsNaming({ callbackTestReceiver: "http://10.244.0.1:8099" }, {}, "callbackTestReceiver");
      assert.match(message, /never in a real cluster/);
      for (const bad of ["http://rehearsal.local:8099", "https://10.244.0.1:8099", "http://10.244.0.1", "http://10.244.0.1:8099/cb", "http://20.50.1.1:8099", "http://169.254.169.254:80"]) {
        failsNaming({ ...KUBE, callbackTestReceiver: bad }, KUBE_SECRETS, "callbackTestReceiver");
      }
      assert.equal(loadConfig(reader({ ...KUBE, callbackTestReceiver: "http://172.18.0.1:8099" }, KUBE_SECRETS)).api.CALLBACK_TEST_RECEIVER, "http://172.18.0.1:8099");
      assert.equal(loadConfig(reader({ ...KUBE }, KUBE_SECRETS)).api.CALLBACK_TEST_RECEIVER, undefined);
    });

    it("quantities, names and HPA bounds", () => {
      failsNaming(
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

describe("Pulumi.dev.yaml", () => {
  const file = fs.readFileSync(path.join(import.meta.dirname, "..", "Pulumi.dev.yaml"), "utf8");
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
    const read = new Set<string>();
    const recording = (values: Record<string, string>, secrets: Record<string, string> = {}) => {
      const inner = reader(values, secrets);
      return {
        get: (key: string) => (read.add(key), inner.get(key)),
        getSecret: (key: string) => (read.add(key), inner.getSecret(key)),
      };
    };
    loadConfig(recording({ hpaEnabled: "true", authMode: "basic", basicAuthUsername: "u" }, { basicAuthPassword: "p" }));
    loadConfig(recording({ target: "existing", registryName: "a", registryResourceGroup: "b", clusterName: "c", clusterResourceGroup: "d" }));
    loadConfig(
      recording(
        { ...KUBE, registryUsername: "u", exposure: "loadbalancer", allowedSourceRanges: "203.0.113.0/24", dataFactory: "true", dataFactoryResourceGroup: "rg" },
        { ...KUBE_SECRETS, registryPassword: "p" },
      ),
    );
    loadConfig(recording({ exposure: "https", hostname: "adf.example.com", dnsLabel: "adf-demo", acmeEmail: "ops@example.com", acmeServer: "staging" }));
    loadConfig(recording({ target: "existing", registryName: "a", registryResourceGroup: "b", clusterName: "c", clusterResourceGroup: "d", exposure: "https", gatewayClassName: "eg", tlsSecretName: "tls" }));
    loadConfig(recording({ authMode: "entra", entraTenantId: TENANT, entraAudience: "api://x", entraAllowedCallers: CALLER }));
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
    for (const bad of ["node 24", "Node:24", "node:24;rm -rf /", "$(id)", "node:"]) failsNaming({ baseImage: bad }, {}, "baseImage");
  });
});
