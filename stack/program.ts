import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

import type { AzureRest } from "./azure-rest.js";
import type { StackConfig } from "./config/index.js";
import { createFactory, createSamplePipeline, factoryPrincipalId, SAMPLE_PIPELINE_NAME } from "./data-factory.js";
import { exposeApi, serviceFor } from "./exposure/index.js";
import { buildApiImage } from "./image.js";
import { azureSession, createAzure, existingAzure, externalPlatform, providerPreflight, type Platform } from "./platform.js";
import { requiredProviders } from "./provider-registrations.js";
import { apiProcess } from "./workload/index.js";
import { WebhookApp } from "./workload/kubernetes.js";

/** The stack outputs, by name (`pulumi stack output <name>`). */
export interface StackOutputs {
  /** The deployed image by digest: `<registry>/<repository>@sha256:...`. */
  imageRef: pulumi.Output<string>;
  namespace: pulumi.Output<string>;
  serviceName: pulumi.Output<string>;
  /** `https://<host>` (exposure https), `http://<LoadBalancer IP>:5002` (loadbalancer), or the in-cluster URL (cluster). */
  endpoint: pulumi.Output<string>;
  /** A URL to paste into a Data Factory Webhook activity (or curl, after the port-forward for ClusterIP). */
  webhookUrl: pulumi.Output<string>;
  portForwardCommand: pulumi.Output<string>;
  clusterName: pulumi.Output<string>;
  registryName: pulumi.Output<string>;
  registryServer: pulumi.Output<string>;
  /** Secret: the cluster's admin kubeconfig (Azure targets only). */
  kubeconfig: pulumi.Output<string> | undefined;
  resourceGroupName: pulumi.Output<string> | undefined;
  dataFactoryName: pulumi.Output<string> | undefined;
  dataFactoryPipelineName: pulumi.Output<string> | undefined;
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

  let platform: Platform;
  if (config.target.kind === "new" && session) platform = createAzure(config.target, config.image.registryAuth, session, preflight);
  else if (config.target.kind === "existing" && session) platform = existingAzure(config.target, config.image.registryAuth, session);
  else if (config.target.kind === "kubeconfig") platform = externalPlatform(config.target);
  else throw new Error("unreachable: an Azure target without an Azure session");

  const provider = new k8s.Provider("k8s", {
    kubeconfig: platform.cluster.kubeconfig,
    context: platform.cluster.kubeContext,
  });

  const image = buildApiImage(platform.registry, config.image);

  // The factory waits for the provider-registration preflight (Microsoft.DataFactory).
  const configuredGroup = config.dataFactory?.resourceGroupName ?? platform.resourceGroupName;
  const factoryGroup = configuredGroup && pulumi.all([preflight, configuredGroup]).apply(([, group]) => group);
  const factory = config.dataFactory && factoryGroup ? createFactory(config.dataFactory, factoryGroup) : undefined;

  const { settings } = config.api;
  // For entra, the factory's managed identity is an allowed caller.
  const api = apiProcess(config.api, factory && settings.AUTH_MODE === "entra" ? [factoryPrincipalId(factory)] : []);
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
      service: serviceFor(config.exposure, settings.JOB_TIMEOUT_MS),
    },
    { providers: [provider] },
  );

  const { endpoint, webhookUrl } = exposeApi(
    config.exposure,
    {
      app,
      appName: config.app.name,
      port: api.ports.http,
      jobTimeoutMs: settings.JOB_TIMEOUT_MS,
      azureCloud: settings.AZURE_CLOUD,
      region: platform.region,
      session,
    },
    { providers: [provider] },
  );

  const pipeline = factory && factoryGroup ? createSamplePipeline(factory, factoryGroup, endpoint, config.api) : undefined;

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
    dataFactoryName: factory?.name,
    dataFactoryPipelineName: pipeline ? pipeline.name.apply(() => SAMPLE_PIPELINE_NAME) : undefined,
  };
}
