/**
 * The stack's documented configurations: Pulumi.dev.yaml as committed, each target, each exposure, each
 * authMode, the HPA, the Data Factory, the API's settings tuned, and the guides' recipes (docs/deploy.md,
 * docs/exposure.md, docs/adf.md, docs/containerapps.md). stack/registrations.test.ts runs each under Pulumi's mocks and compares
 * what the program registers with the golden files in fixtures/registrations/, recorded from the program
 * as it was before a refactoring: a change of structure must register exactly the same resources.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import YAML from "yaml";

export interface Configuration {
  /** The golden file's name (fixtures/registrations/<name>.json). */
  name: string;
  values: Record<string, string>;
  secrets?: Record<string, string>;
  /** Run as `pulumi preview` too (fixtures/registrations/<name>.preview.json). */
  preview?: boolean;
}

const ROOT = path.resolve(import.meta.dirname, "..", "..");

/** Pulumi.dev.yaml's settings as the program reads them: without the project's namespace. */
export function devStackValues(): Record<string, string> {
  const project = (YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
  const { config } = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, string> };
  return Object.fromEntries(Object.entries(config).map(([key, value]) => [key.replace(`${project}:`, ""), value]));
}

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CALLER = "33333333-3333-3333-3333-333333333333";
const EXISTING = { target: "existing", registryName: "myacr", registryResourceGroup: "rg-shared", clusterName: "aks-shared", clusterResourceGroup: "rg-shared" };
const KUBE = { target: "kubeconfig", registryServer: "localhost:5001" };
const KUBECONFIG = { kubeconfig: "apiVersion: v1\nkind: Config\ncurrent-context: kind-dev\n" };
const ACME = { exposure: "https", acmeEmail: "ops@example.com" };
const ENTRA = { authMode: "entra", entraTenantId: TENANT, entraAudience: "api://adf-webhook" };
const ACA = { target: "containerapps" };

export function documentedConfigurations(): Configuration[] {
  return [
    // Pulumi.dev.yaml as committed, and nothing set at all (the same defaults, spelled out or not).
    { name: "dev-stack", values: devStackValues(), preview: true },
    { name: "defaults", values: {} },

    // target new
    {
      name: "new-named-admin-push-kubelogin",
      values: {
        resourceGroupName: "rg-adf-webhook-dev",
        registryName: "adfwebhookdev123",
        clusterName: "aks-adf-webhook-dev",
        nodeCount: "3",
        nodeVmSize: "Standard_D4s_v5",
        kubernetesVersion: "1.33",
        location: "northeurope",
        registryAuth: "admin",
        clusterCredentials: "azurecli",
      },
    },
    { name: "new-docker-login-tagged-mirror", values: { registryAuth: "docker-login", imageRepository: "team/adf-api", imageTag: "v7", baseImage: "myacr.azurecr.io/library/node:24-bookworm-slim" } },
    {
      name: "new-hpa-fsgroup-resources",
      values: { hpaEnabled: "true", hpaMinReplicas: "3", hpaMaxReplicas: "8", hpaCpuUtilization: "65", fsGroup: "2000", cpuRequest: "250m", cpuLimit: "2", memoryRequest: "256Mi", memoryLimit: "512Mi", namespace: "adf", appName: "adf-api", replicas: "3" },
    },
    { name: "new-hpa-defaults", values: { hpaEnabled: "true" } },
    { name: "new-loadbalancer", values: { exposure: "loadbalancer", allowedSourceRanges: "203.0.113.0/24, 2001:db8::/32" }, preview: true },
    { name: "new-loadbalancer-basic-plain-http", values: { exposure: "loadbalancer", allowPlainHttp: "true", authMode: "basic", basicAuthUsername: "adf" }, secrets: { basicAuthPassword: "s3cret pass" } },
    { name: "new-https-acme", values: { ...ACME }, preview: true },
    { name: "new-https-hostname-staging", values: { ...ACME, hostname: "adf.example.com", dnsLabel: "adf-demo", acmeServer: "staging" } },
    { name: "new-https-usgovernment", values: { ...ACME, azureCloud: "usgovernment", location: "usgovvirginia" } },
    { name: "new-https-tls-secret-ranges", values: { exposure: "https", tlsSecretName: "adf-webhook-tls", allowedSourceRanges: "203.0.113.0/24,198.51.100.0/24" } },
    // docs/deploy.md, "Add Azure Data Factory": https, Let's Encrypt, a factory and its sample pipeline.
    { name: "new-https-data-factory", values: { ...ACME, dataFactory: "true", dataFactoryName: "adf-webhook-dev", dataFactoryLocation: "northeurope" }, preview: true },
    { name: "new-https-data-factory-entra", values: { ...ACME, dataFactory: "true", ...ENTRA, entraRequiredRoles: "Jobs.Run", azureCloud: "china", location: "chinanorth3" } },
    { name: "new-loadbalancer-data-factory-basic", values: { exposure: "loadbalancer", allowPlainHttp: "true", dataFactory: "true", dataFactoryResourceGroup: "rg-adf", authMode: "basic", basicAuthUsername: "adf" }, secrets: { basicAuthPassword: "pw" } },
    {
      name: "new-entra-every-setting",
      values: {
        ...ENTRA,
        entraAudience: "api://adf-webhook, 44444444-4444-4444-4444-444444444444",
        entraAllowedCallers: `${CALLER},55555555-5555-5555-5555-555555555555`,
        entraRequiredRoles: "Jobs.Run, Jobs.Admin",
        entraJwksUri: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      },
    },
    {
      name: "new-api-settings-tuned",
      values: {
        logLevel: "debug",
        bodyLimit: "1.5mb",
        drainTimeoutMs: "45000",
        jobTimeoutMs: "1500000",
        maxConcurrentJobs: "64",
        maxQueuedJobs: "0",
        maxPendingCallbacks: "28",
        maxOutputBytes: "2mb",
        maxQueuedBytes: "64mb",
        callbackAllowedHosts: ".example.com, hooks.example.org",
        callbackTimeoutMs: "2000",
        callbackMaxAttempts: "3",
        callbackRetryBaseMs: "0",
      },
    },

    // target existing (docs/deploy.md, "target: existing")
    { name: "existing", values: { ...EXISTING }, preview: true },
    { name: "existing-no-acr-pull-spn", values: { ...EXISTING, grantAcrPull: "false", clusterCredentials: "spn", registryAuth: "admin" } },
    { name: "existing-https-acme-located", values: { ...EXISTING, ...ACME, location: "northeurope" } },
    // docs/exposure.md, "A cluster that has its own gateway": the cluster's gateway class and cert-manager.
    { name: "existing-https-own-gateway", values: { ...EXISTING, ...ACME, gatewayClassName: "approuting-istio", installCertManager: "false" } },
    {
      name: "existing-https-gateway-tls-data-factory-basic",
      values: { ...EXISTING, exposure: "https", gatewayClassName: "approuting-istio", tlsSecretName: "adf-tls", allowedSourceRanges: "203.0.113.0/24", dataFactory: "true", authMode: "basic", basicAuthUsername: "adf" },
      secrets: { basicAuthPassword: "pw" },
    },
    { name: "existing-https-data-factory-entra", values: { ...EXISTING, ...ACME, dataFactory: "true", ...ENTRA }, preview: true },

    // target kubeconfig (docs/deploy.md, "target: kubeconfig"; docs/adf.md, the rehearsal with the ADF emulator)
    { name: "kubeconfig", values: { ...KUBE }, secrets: KUBECONFIG, preview: true },
    { name: "kubeconfig-rehearsal", values: { ...KUBE, kubeContext: "kind-dev", callbackAllowInsecure: "true", callbackTestReceiver: "http://172.18.0.1:8099", jobTimeoutMs: "1", maxQueuedJobs: "0", callbackMaxAttempts: "3" }, secrets: KUBECONFIG },
    { name: "kubeconfig-private-registry", values: { target: "kubeconfig", registryServer: "registry.example.com", registryUsername: "ci" }, secrets: { ...KUBECONFIG, registryPassword: "pw" } },
    { name: "kubeconfig-https-hostname", values: { ...KUBE, ...ACME, hostname: "adf.example.com", acmeServer: "staging", installCertManager: "false" }, secrets: KUBECONFIG },
    { name: "kubeconfig-https-dns-label", values: { ...KUBE, ...ACME, dnsLabel: "adf-demo", location: "uksouth" }, secrets: KUBECONFIG },
    {
      name: "kubeconfig-loadbalancer-data-factory-entra",
      values: { ...KUBE, exposure: "loadbalancer", allowPlainHttp: "true", dataFactory: "true", dataFactoryResourceGroup: "rg-adf", ...ENTRA, entraAllowedCallers: CALLER },
      secrets: KUBECONFIG,
      preview: true,
    },

    // target containerapps (docs/containerapps.md)
    { name: "containerapps", values: { ...ACA }, preview: true },
    {
      name: "containerapps-named-basic-ranges",
      values: {
        ...ACA,
        location: "northeurope",
        resourceGroupName: "rg-adf-webhook-aca",
        registryName: "adfwebhookaca123",
        environmentName: "cae-adf-webhook",
        appName: "adf-api",
        containerAppCpu: "1",
        replicas: "1",
        jobTimeoutMs: "240000",
        authMode: "basic",
        basicAuthUsername: "adf",
        allowedSourceRanges: "203.0.113.0/24, 198.51.100.7",
        registryAuth: "docker-login",
      },
      secrets: { basicAuthPassword: "s3cret pass" },
    },
    {
      name: "containerapps-existing-environment-registry",
      values: {
        ...ACA,
        exposure: "https",
        appResourceGroup: "rg-adf-apps",
        environmentName: "cae-shared",
        environmentResourceGroup: "rg-platform",
        registryName: "myacr",
        registryResourceGroup: "rg-shared",
      },
      preview: true,
    },
    { name: "containerapps-data-factory-entra", values: { ...ACA, dataFactory: "true", ...ENTRA, entraRequiredRoles: "Jobs.Run" }, preview: true },
    {
      name: "containerapps-scaling-data-factory-basic",
      values: { ...ACA, hpaEnabled: "true", hpaMinReplicas: "2", hpaMaxReplicas: "6", hpaCpuUtilization: "60", dataFactory: "true", dataFactoryResourceGroup: "rg-adf", authMode: "basic", basicAuthUsername: "adf" },
      secrets: { basicAuthPassword: "pw" },
    },
  ];
}

/** The documented configurations of target containerapps (no Kubernetes objects: their ARM bodies are checked instead). */
export const containerAppsConfigurations = (): Configuration[] => documentedConfigurations().filter(({ values }) => values.target === "containerapps");
/** The documented configurations that run the API on Kubernetes. */
export const kubernetesConfigurations = (): Configuration[] => documentedConfigurations().filter(({ values }) => values.target !== "containerapps");
