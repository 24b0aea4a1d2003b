import type * as datafactory from "@pulumi/azure-native/datafactory/index.js";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { AzureRest } from "./azure-rest.js";
import type { StackConfig } from "./config/index.js";
import type { Target } from "./config/target.js";
import { createFactory, createSamplePipeline, factoryPrincipalId, SAMPLE_PIPELINE_NAME } from "./data-factory.js";
import { exposeApi, serviceFor } from "./exposure/index.js";
import { buildApiImage } from "./image.js";
import { azureSession, containerAppsAzure, createAzure, existingAzure, externalPlatform, providerPreflight, type AzureSession, type Platform } from "./platform.js";
import { requiredProviders } from "./provider-registrations.js";
import { webActivityTimeoutWarning, WebhookContainerApp } from "./workload/containerapps.js";
import { apiProcess } from "./workload/index.js";
import { WebhookApp } from "./workload/kubernetes.js";

/**
 * The stack outputs, by name (`pulumi stack output <name>`). The Kubernetes targets' outputs and target
 * containerapps' are each only in a stack of theirs.
 */
export interface StackOutputs {
  /** The deployed image by digest: `<registry>/<repository>@sha256:...`. */
  imageRef: pulumi.Output<string>;
  namespace?: pulumi.Output<string>;
  serviceName?: pulumi.Output<string>;
  /**
   * `https://<host>` (exposure https), `http://<LoadBalancer IP>:5002` (loadbalancer), the in-cluster URL
   * (cluster), or `https://<appName>.<environment's domain>` (target containerapps).
   */
  endpoint: pulumi.Output<string>;
  /** A URL to paste into a Data Factory Webhook or Web activity (or curl, after the port-forward for ClusterIP). */
  webhookUrl: pulumi.Output<string>;
  portForwardCommand?: pulumi.Output<string>;
  clusterName?: pulumi.Output<string>;
  registryName: pulumi.Output<string>;
  registryServer: pulumi.Output<string>;
  /** Secret: the cluster's admin kubeconfig (AKS targets only). */
  kubeconfig?: pulumi.Output<string> | undefined;
  /** Target containerapps: the Container App's name and its managed environment's. */
  containerAppName?: pulumi.Output<string>;
  containerAppsEnvironmentName?: pulumi.Output<string>;
  resourceGroupName: pulumi.Output<string> | undefined;
  dataFactoryName: pulumi.Output<string> | undefined;
  dataFactoryPipelineName: pulumi.Output<string> | undefined;
}

/**
 * The outputs a stack has: those that apply to its configuration. The SDK warns about every stack output
 * left undefined ("Undefined value (kubeconfig) will not show as a stack output"), on every preview and
 * update, so index.ts exports only these.
 */
export function definedOutputs<T extends object>(outputs: T): Partial<T> {
  return Object.fromEntries(Object.entries(outputs).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** What the program reaches outside Pulumi's providers: Azure's REST endpoints (the tests' own server). */
export interface StackServices {
  azureRest: AzureRest;
}

/**
 * The whole program for one checked configuration, in the order things exist: the platform (cluster and
 * registry), the image, the Data Factory, the API on the cluster, how it is reached, and the factory's
 * pipeline that calls it. index.ts calls it with the stack's config.
 */
export function runStack(config: StackConfig, services: StackServices): StackOutputs {
  // Azure is only touched when the stack uses it: never for a kubeconfig target without a factory.
  const usesAzure = config.target.kind !== "kubeconfig" || config.dataFactory !== undefined;
  const session = usesAzure ? azureSession(services.azureRest) : undefined;
  const preflight = session ? providerPreflight(session, requiredProviders(config)) : pulumi.output([]);
  if (config.target.kind === "containerapps") {
    if (!session) throw new Error("unreachable: an Azure target without an Azure session");
    return runOnContainerApps(config, config.target, session, preflight);
  }

  let platform: Platform;
  if (config.target.kind === "new" && session) platform = createAzure(config.target, config.image.registryAuth, session, preflight);
  else if (config.target.kind === "existing" && session) platform = existingAzure(config.target, config.image.registryAuth, session);
  else if (config.target.kind === "kubeconfig") platform = externalPlatform(config.target);
  else throw new Error("unreachable: an Azure target without an Azure session");
  const { exposure } = config;
  if (exposure.mode === "ingress") throw new Error("unreachable: the Container App's ingress on Kubernetes (stack/config/exposure.ts)");

  const provider = new k8s.Provider("k8s", {
    kubeconfig: platform.cluster.kubeconfig,
    context: platform.cluster.kubeContext,
  });

  const image = buildApiImage(platform.registry, config.image);
  const factory = startFactory(config, preflight, platform.resourceGroupName);
  const api = apiFor(config, factory);
  const app = new WebhookApp(
    "adf-webhook",
    {
      app: config.app,
      api,
      image: image.repoDigest,
      pullAccess: platform.pullAccess,
      // Only a non-Azure private registry needs a pull secret; AKS pulls through AcrPull.
      pullCredentials:
        config.target.kind === "kubeconfig" && platform.registry.credentials
          ? { server: platform.registry.server, ...platform.registry.credentials }
          : undefined,
      service: serviceFor(exposure, config.api.settings.JOB_TIMEOUT_MS),
    },
    { providers: [provider] },
  );

  const { endpoint, webhookUrl } = exposeApi(
    exposure,
    {
      app,
      appName: config.app.name,
      port: api.ports.http,
      jobTimeoutMs: config.api.settings.JOB_TIMEOUT_MS,
      azureCloud: config.api.settings.AZURE_CLOUD,
      region: platform.region,
      session,
    },
    { providers: [provider] },
  );

  return {
    imageRef: image.repoDigest,
    namespace: app.namespace,
    serviceName: app.serviceName,
    endpoint,
    webhookUrl,
    portForwardCommand: pulumi.interpolate`kubectl --namespace ${app.namespace} port-forward service/${app.serviceName} ${api.ports.http}:${api.ports.http}`,
    clusterName: platform.cluster.name,
    registryName: platform.registry.name,
    registryServer: platform.registry.server,
    kubeconfig: config.target.kind === "kubeconfig" ? undefined : pulumi.secret(platform.cluster.kubeconfig),
    resourceGroupName: platform.resourceGroupName,
    ...finishFactory(factory, endpoint, config),
  };
}

/**
 * Target containerapps: the same image by digest, the same API settings and secrets, and the same
 * optional Data Factory, on Azure Container Apps instead of Kubernetes.
 */
function runOnContainerApps(config: StackConfig, target: Extract<Target, { kind: "containerapps" }>, session: AzureSession, preflight: pulumi.Output<string[]>): StackOutputs {
  const platform = containerAppsAzure(target, config.image.registryAuth, session, preflight);
  const image = buildApiImage(platform.registry, config.image);
  const factory = startFactory(config, preflight, platform.resourceGroupName);
  const api = apiFor(config, factory);

  const warning = webActivityTimeoutWarning(config.api.settings);
  if (warning) void pulumi.log.warn(warning);

  const app = new WebhookContainerApp("adf-webhook", {
    app: config.app,
    api,
    image: image.repoDigest,
    resourceGroupName: platform.resourceGroupName,
    environment: platform.environment,
    registry: { server: platform.registry.server, grantAcrPull: platform.grantAcrPull },
    resources: target.resources,
    allowedSourceRanges: config.exposure.mode === "ingress" ? config.exposure.allowedSourceRanges : undefined,
  });

  // The app's stable address: <app>.<the environment's domain>, known before the app exists
  // (latestRevisionFqdn changes with every revision, and configuration.ingress.fqdn is in the secret configuration).
  const endpoint = pulumi.interpolate`https://${config.app.name}.${platform.environment.defaultDomain}`;
  return {
    imageRef: image.repoDigest,
    endpoint,
    webhookUrl: pulumi.interpolate`${endpoint}/helloworld`,
    registryName: platform.registry.name,
    registryServer: platform.registry.server,
    resourceGroupName: platform.resourceGroupName,
    containerAppName: app.name,
    containerAppsEnvironmentName: platform.environment.name,
    ...finishFactory(factory, endpoint, config),
  };
}

interface StartedFactory {
  factory: datafactory.Factory;
  resourceGroupName: pulumi.Output<string>;
}

/** The optional Data Factory, in its own group or the platform's; it waits for the preflight (Microsoft.DataFactory). */
function startFactory(config: StackConfig, preflight: pulumi.Output<string[]>, platformGroup: pulumi.Output<string> | undefined): StartedFactory | undefined {
  const configuredGroup = config.dataFactory?.resourceGroupName ?? platformGroup;
  if (!config.dataFactory || !configuredGroup) return undefined;
  const resourceGroupName = pulumi.all([preflight, configuredGroup]).apply(([, group]) => group);
  return { factory: createFactory(config.dataFactory, resourceGroupName), resourceGroupName };
}

/** The API's process; for entra, the factory's managed identity is an allowed caller. */
function apiFor(config: StackConfig, factory: StartedFactory | undefined) {
  return apiProcess(config.api, factory && config.api.settings.AUTH_MODE === "entra" ? [factoryPrincipalId(factory.factory)] : []);
}

/** The factory's sample pipeline, calling the API where it is reached, and the factory's outputs. */
function finishFactory(factory: StartedFactory | undefined, endpoint: pulumi.Output<string>, config: StackConfig): Pick<StackOutputs, "dataFactoryName" | "dataFactoryPipelineName"> {
  const pipeline = factory ? createSamplePipeline(factory.factory, factory.resourceGroupName, endpoint, config.api) : undefined;
  return {
    dataFactoryName: factory?.factory.name,
    dataFactoryPipelineName: pipeline ? pipeline.name.apply(() => SAMPLE_PIPELINE_NAME) : undefined,
  };
}
