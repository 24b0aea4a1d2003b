import { createHash } from "node:crypto";

import * as app from "@pulumi/azure-native/app/index.js";
import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as containerregistry from "@pulumi/azure-native/containerregistry/index.js";
import * as containerservice from "@pulumi/azure-native/containerservice/index.js";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights/index.js";
import * as resources from "@pulumi/azure-native/resources/index.js";
import * as pulumi from "@pulumi/pulumi";

import { ACR_TOKEN_USERNAME, exchangeForAcrRefreshToken } from "./acr-token.js";
import type { AzureRest } from "./azure-rest.js";
import type { RegistryAuth } from "./config/image.js";
import type { ClusterCredentials, Target } from "./config/target.js";
import { toKubeloginMode } from "./kubelogin.js";
import { providerStates, registrationMessage } from "./provider-registrations.js";
import { CONSUMPTION_PROFILE, type ContainerAppEnvironment } from "./workload/containerapps.js";

/**
 * The platform of each target: the cluster and the registry, created (new), looked up (existing) or
 * taken from the config (kubeconfig), once, and handed on to what runs on them.
 */

/** The built-in AcrPull role (pull images only). */
export const ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

/** The registry the image is pushed to and the cluster pulls from. */
export interface RegistryInfo {
  /** ACR name, or the registry server for a non-Azure registry. */
  name: pulumi.Output<string>;
  /** Login server, e.g. `myacr.azurecr.io`. */
  server: pulumi.Output<string>;
  /** Push credentials when the stack has them (ACR admin or config); undefined = the host's docker login. */
  credentials?: { username: pulumi.Output<string>; password: pulumi.Output<string> };
}

export interface ClusterInfo {
  name: pulumi.Output<string>;
  /** Secret: the cluster's admin kubeconfig, or the one from config. */
  kubeconfig: pulumi.Output<string>;
  kubeContext?: string;
}

export interface Platform {
  registry: RegistryInfo;
  cluster: ClusterInfo;
  /** The resource group the stack owns (target new) or the cluster's (existing). */
  resourceGroupName?: pulumi.Output<string>;
  /**
   * The cluster's region, as Azure names it (`westeurope`): the stack's location for targets new and
   * kubeconfig, the cluster's own for an existing one.
   */
  region: pulumi.Output<string>;
  /** What must exist before pods can pull (the AcrPull role assignment). */
  pullAccess: pulumi.Resource[];
}

/**
 * The deploying identity, as azure-native sees it: its subscription and tenant, and (secret) its
 * Entra access token for Resource Manager (`authorization.getClientToken`, default endpoint).
 */
export interface AzureSession {
  rest: AzureRest;
  subscriptionId: pulumi.Output<string>;
  tenantId: pulumi.Output<string>;
  accessToken: pulumi.Output<string>;
}

/** The session of the identity azure-native signs in as; each invoke runs only when something reads it. */
export function azureSession(rest: AzureRest): AzureSession {
  let client: pulumi.Output<authorization.GetClientConfigResult> | undefined;
  let token: pulumi.Output<string> | undefined;
  const config = () => (client ??= authorization.getClientConfigOutput());
  return {
    rest,
    get subscriptionId() {
      return config().subscriptionId;
    },
    get tenantId() {
      return config().tenantId;
    },
    get accessToken() {
      return (token ??= pulumi.secret(authorization.getClientTokenOutput().token));
    },
  };
}

/**
 * Resolves to the namespaces checked once every one is registered in the subscription; otherwise
 * fails the run, preview included, with the `az provider register` commands. Resources that need
 * them take an input from it, so nothing is sent to Azure before the check passes.
 */
export function providerPreflight(session: AzureSession, namespaces: string[]): pulumi.Output<string[]> {
  if (namespaces.length === 0) return pulumi.output([]);
  const checked = pulumi.all([session.subscriptionId, session.accessToken]).apply(async ([subscriptionId, accessToken]) => {
    const { missing, unreadable } = await providerStates({ rest: session.rest, subscriptionId, accessToken, namespaces });
    if (missing.length > 0) throw new Error(registrationMessage(subscriptionId, missing));
    if (unreadable.length > 0) {
      // An identity with roles on resource groups only: Azure itself will say if one is missing.
      void pulumi.log.warn(`could not check the registration of ${unreadable.join(", ")} (HTTP 403); if a request fails with MissingSubscriptionRegistration, register them with az provider register`);
    }
    return namespaces;
  });
  // Namespaces, not the token: what waits for the check must not become secret in state.
  return pulumi.unsecret(checked);
}

/**
 * Push credentials as the deploying identity: its Entra token exchanged at the registry for an ACR
 * refresh token (what `az acr login --expose-token` does). The token is new on every run; the
 * docker provider does not rebuild for a changed registry password or user name, only for a
 * changed server (pulumi-docker provider/provider.go `diffUpdates`).
 */
function identityCredentials(session: AzureSession, server: pulumi.Output<string>): RegistryInfo["credentials"] {
  return {
    username: pulumi.output(ACR_TOKEN_USERNAME),
    password: pulumi.secret(
      pulumi.all([server, session.tenantId, session.accessToken]).apply(([service, tenantId, accessToken]) =>
        exchangeForAcrRefreshToken({ url: session.rest.acrExchangeUrl(service), service, tenantId, accessToken }),
      ),
    ),
  };
}

/** The push credentials of an Azure registry for a registryAuth. */
function pushCredentials(
  registryAuth: RegistryAuth,
  session: AzureSession,
  server: pulumi.Output<string>,
  resourceGroupName: pulumi.Input<string>,
  registryName: pulumi.Input<string>,
): RegistryInfo["credentials"] {
  switch (registryAuth) {
    case "entra":
      return identityCredentials(session, server);
    case "admin":
      return adminCredentials(resourceGroupName, registryName);
    default:
      return undefined; // docker-login: the host's login
  }
}

/** The kubeconfig the Kubernetes provider uses: admin, or the user's through kubelogin. */
function clusterKubeconfig(credentials: ClusterCredentials, resourceGroupName: pulumi.Input<string>, clusterName: pulumi.Input<string>): pulumi.Output<string> {
  if (credentials === "admin") return adminKubeconfig(resourceGroupName, clusterName);
  const user = containerservice.listManagedClusterUserCredentialsOutput({ resourceGroupName, resourceName: clusterName, format: "exec" });
  return pulumi.secret(
    user.kubeconfigs.apply((kubeconfigs) => {
      const value = kubeconfigs[0]?.value;
      if (!value) throw new Error("the AKS cluster returned no user kubeconfig");
      return toKubeloginMode(Buffer.from(value, "base64").toString("utf8"), credentials);
    }),
  );
}

/** A globally unique but stable ACR name for this subscription, project and stack. */
export function defaultRegistryName(subscriptionId: string, project: string, stack: string): string {
  const hash = createHash("sha256").update(`${subscriptionId}/${project}/${stack}`).digest("hex").slice(0, 10);
  return `adfwebhook${hash}`;
}

/** The first admin kubeconfig of an AKS cluster, decoded and secret. */
function adminKubeconfig(resourceGroupName: pulumi.Input<string>, clusterName: pulumi.Input<string>): pulumi.Output<string> {
  const credentials = containerservice.listManagedClusterAdminCredentialsOutput({ resourceGroupName, resourceName: clusterName });
  return pulumi.secret(
    credentials.kubeconfigs.apply((kubeconfigs) => {
      const value = kubeconfigs[0]?.value;
      if (!value) throw new Error("the AKS cluster returned no admin kubeconfig: are its local accounts disabled? Set clusterCredentials to azurecli, workloadidentity or spn");
      return Buffer.from(value, "base64").toString("utf8");
    }),
  );
}

/** ACR admin credentials (the registry's admin user must be enabled), kept secret. */
function adminCredentials(resourceGroupName: pulumi.Input<string>, registryName: pulumi.Input<string>): RegistryInfo["credentials"] {
  const credentials = containerregistry.listRegistryCredentialsOutput({ resourceGroupName, registryName });
  return {
    username: pulumi.secret(credentials.apply((c) => c.username ?? "")),
    password: pulumi.secret(
      credentials.apply((c) => {
        const password = c.passwords?.[0]?.value;
        if (!password) throw new Error("the registry returned no admin password: enable its admin user or set registryAuth to docker-login");
        return password;
      }),
    ),
  };
}

/** AcrPull on the registry for an identity (the cluster's kubelet, a Container App's): it pulls without any password. */
function grantAcrPull(name: string, registryId: pulumi.Input<string>, principalId: pulumi.Input<string>, description: string, opts?: pulumi.CustomResourceOptions) {
  return new authorization.RoleAssignment(
    name,
    {
      scope: registryId,
      principalId,
      principalType: authorization.PrincipalType.ServicePrincipal,
      // The registry id's subscription (/subscriptions/<id>/...) is the role definition's.
      roleDefinitionId: pulumi
        .output(registryId)
        .apply((id) => `/subscriptions/${id.split("/")[2]}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL_ROLE_ID}`),
      description,
    },
    opts,
  );
}

const KUBELET_PULLS = "AKS kubelet pulls the adf-webhook images";

function kubeletObjectId(
  identityProfile: pulumi.Input<{ [key: string]: { objectId?: string } } | undefined> | undefined,
  clusterName: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.all([pulumi.output(identityProfile), clusterName]).apply(([profile, cluster]) => {
    const objectId = profile?.["kubeletidentity"]?.objectId;
    if (!objectId) throw new Error(`AKS cluster ${cluster} has no kubelet identity: it must use managed identities`);
    return objectId;
  });
}

/** The stack's resource group: the first resource, which waits for the provider-registration preflight, and everything else for it. */
function createResourceGroup(name: string | undefined, location: string, preflight: pulumi.Output<string[]>): resources.ResourceGroup {
  return new resources.ResourceGroup("rg", { location: preflight.apply(() => location), resourceGroupName: name });
}

/** An ACR (Basic) the stack creates: named, or with a stable default name. */
function createRegistry(name: string | undefined, resourceGroupName: pulumi.Input<string>, location: string, registryAuth: RegistryAuth, session: AzureSession) {
  const registryName = name ?? session.subscriptionId.apply((sub) => defaultRegistryName(sub, pulumi.getProject(), pulumi.getStack()));
  return new containerregistry.Registry("acr", {
    resourceGroupName,
    location,
    registryName,
    sku: { name: containerregistry.SkuName.Basic },
    // Only when the push uses the admin user (a shared secret many organisations' policies forbid).
    adminUserEnabled: registryAuth === "admin",
  });
}

/** Target new: resource group, ACR (Basic), AKS (system-assigned identity, small system pool), AcrPull. */
export function createAzure(
  target: Extract<Target, { kind: "new" }>,
  registryAuth: RegistryAuth,
  session: AzureSession,
  preflight: pulumi.Output<string[]>,
): Platform {
  const { location } = target;
  const group = createResourceGroup(target.resourceGroupName, location, preflight);

  const registry = createRegistry(target.registryName, group.name, location, registryAuth, session);

  const cluster = new containerservice.ManagedCluster("aks", {
    resourceGroupName: group.name,
    location,
    resourceName: target.clusterName,
    dnsPrefix: "adf-webhook",
    kubernetesVersion: target.kubernetesVersion,
    identity: { type: containerservice.ResourceIdentityType.SystemAssigned },
    enableRBAC: true,
    agentPoolProfiles: [
      {
        name: "system",
        mode: containerservice.AgentPoolMode.System,
        count: target.nodeCount,
        vmSize: target.nodeVmSize,
        osType: containerservice.OSType.Linux,
        type: containerservice.AgentPoolType.VirtualMachineScaleSets,
      },
    ],
  });

  const acrPull = grantAcrPull("acr-pull", registry.id, kubeletObjectId(cluster.identityProfile, cluster.name), KUBELET_PULLS);

  return {
    region: pulumi.output(location),
    pullAccess: [acrPull],
    resourceGroupName: group.name,
    registry: {
      name: registry.name,
      server: registry.loginServer,
      credentials: pushCredentials(registryAuth, session, registry.loginServer, group.name, registry.name),
    },
    cluster: { name: cluster.name, kubeconfig: clusterKubeconfig(target.clusterCredentials, group.name, cluster.name) },
  };
}

/** A region as Azure writes it in host names: "West Europe" or "westeurope" -> westeurope. */
const regionName = (region: string): string => region.toLowerCase().replace(/\s+/g, "");

/** Target existing: look the ACR and the AKS cluster up, and grant AcrPull unless told not to. */
export function existingAzure(target: Extract<Target, { kind: "existing" }>, registryAuth: RegistryAuth, session: AzureSession): Platform {
  const registry = containerregistry.getRegistryOutput({ registryName: target.registryName, resourceGroupName: target.registryResourceGroup });
  const cluster = containerservice.getManagedClusterOutput({ resourceName: target.clusterName, resourceGroupName: target.clusterResourceGroup });

  const pullAccess = target.grantAcrPull
    ? [grantAcrPull("acr-pull", registry.id, kubeletObjectId(cluster.identityProfile, target.clusterName), KUBELET_PULLS)]
    : [];

  return {
    region: cluster.location.apply(regionName),
    pullAccess,
    resourceGroupName: pulumi.output(target.clusterResourceGroup),
    registry: {
      name: registry.name,
      server: registry.loginServer,
      credentials: pushCredentials(registryAuth, session, registry.loginServer, target.registryResourceGroup, target.registryName),
    },
    cluster: { name: cluster.name, kubeconfig: clusterKubeconfig(target.clusterCredentials, target.clusterResourceGroup, target.clusterName) },
  };
}

/** Target kubeconfig: no Azure; the registry and the cluster come from config. */
export function externalPlatform(target: Extract<Target, { kind: "kubeconfig" }>): Platform {
  return {
    region: pulumi.output(target.location),
    pullAccess: [],
    registry: {
      name: pulumi.output(target.registryServer),
      server: pulumi.output(target.registryServer),
      credentials:
        target.registryUsername !== undefined && target.registryPassword !== undefined
          ? { username: pulumi.output(target.registryUsername), password: pulumi.secret(target.registryPassword) }
          : undefined,
    },
    cluster: {
      // The context used: the configured one, else the kubeconfig's current-context (a name, not a secret).
      name: target.kubeContext
        ? pulumi.output(target.kubeContext)
        : pulumi.unsecret(target.kubeconfig.apply((text) => /^current-context:\s*["']?([^"'\s]+)/m.exec(text)?.[1] ?? "(kubeconfig)")),
      kubeconfig: pulumi.secret(target.kubeconfig),
      kubeContext: target.kubeContext,
    },
  };
}

/** Target containerapps' platform: where the app goes, the registry, and the managed environment. */
export interface ContainerAppsPlatform {
  /** The group the stack creates, or the existing one it was given (appResourceGroup). */
  resourceGroupName: pulumi.Output<string>;
  registry: RegistryInfo;
  /** AcrPull on the registry for a principal (the app's pull identity). */
  grantAcrPull: (name: string, principalId: pulumi.Input<string>, opts: pulumi.CustomResourceOptions) => pulumi.Resource;
  environment: ContainerAppEnvironment & { name: pulumi.Output<string>; defaultDomain: pulumi.Output<string> };
}

/** The most vCPUs a replica gets in a Consumption-only environment (one without workload profiles). */
const CONSUMPTION_ONLY_MAX_CPU = 2;

/**
 * Target containerapps: a resource group (or an existing one), an ACR and a managed environment with its
 * Log Analytics workspace, each created or looked up. Nothing is sent to Azure before the
 * provider-registration preflight passes: everything takes its group from it.
 */
export function containerAppsAzure(
  target: Extract<Target, { kind: "containerapps" }>,
  registryAuth: RegistryAuth,
  session: AzureSession,
  preflight: pulumi.Output<string[]>,
): ContainerAppsPlatform {
  const { location } = target;
  const { resourceGroup } = target;
  const groupName = resourceGroup.kind === "create" ? createResourceGroup(resourceGroup.name, location, preflight).name : preflight.apply(() => resourceGroup.name);

  let registryId: pulumi.Output<string>;
  let registry: RegistryInfo;
  if (target.registry.kind === "create") {
    const created = createRegistry(target.registry.name, groupName, location, registryAuth, session);
    registryId = created.id;
    registry = { name: created.name, server: created.loginServer, credentials: pushCredentials(registryAuth, session, created.loginServer, groupName, created.name) };
  } else {
    const { name, resourceGroupName } = target.registry;
    const found = containerregistry.getRegistryOutput({ registryName: name, resourceGroupName });
    registryId = found.id;
    registry = { name: found.name, server: found.loginServer, credentials: pushCredentials(registryAuth, session, found.loginServer, resourceGroupName, name) };
  }

  return {
    resourceGroupName: groupName,
    registry,
    grantAcrPull: (name, principalId, opts) => grantAcrPull(name, registryId, principalId, "Container Apps pulls the adf-webhook image", opts),
    environment: target.environment.kind === "create" ? createEnvironment(target, groupName) : existingEnvironment(target),
  };
}

/**
 * A managed environment with workload profiles (the built-in Consumption profile: Microsoft's
 * recommendation for new environments) sending the apps' logs to a Log Analytics workspace of its own.
 */
function createEnvironment(target: Extract<Target, { kind: "containerapps" }>, resourceGroupName: pulumi.Output<string>): ContainerAppsPlatform["environment"] {
  const { location } = target;
  const workspace = new operationalinsights.Workspace("adf-webhook-logs", {
    resourceGroupName,
    location,
    sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
    retentionInDays: 30,
  });
  // An invoke's result is never secret by itself: the key must not reach the state in clear.
  const sharedKey = pulumi.secret(
    operationalinsights.getSharedKeysOutput({ resourceGroupName, workspaceName: workspace.name }).apply((keys) => {
      if (!keys.primarySharedKey) throw new Error("the Log Analytics workspace returned no shared key");
      return keys.primarySharedKey;
    }),
  );
  const environment = new app.ManagedEnvironment("adf-webhook-env", {
    resourceGroupName,
    location,
    environmentName: target.environment.name,
    appLogsConfiguration: { destination: "log-analytics", logAnalyticsConfiguration: { customerId: workspace.customerId, sharedKey } },
    workloadProfiles: [{ name: CONSUMPTION_PROFILE, workloadProfileType: CONSUMPTION_PROFILE }],
  });
  return { id: environment.id, name: environment.name, location, defaultDomain: environment.defaultDomain, workloadProfileName: CONSUMPTION_PROFILE };
}

/** An existing managed environment: its region, domain and Consumption profile, as Azure says. */
function existingEnvironment(target: Extract<Target, { kind: "containerapps" }>): ContainerAppsPlatform["environment"] {
  if (target.environment.kind !== "existing") throw new Error("unreachable: an existing environment without its name");
  const { name, resourceGroupName } = target.environment;
  const environment = app.getManagedEnvironmentOutput({ environmentName: name, resourceGroupName });
  const { cpu } = target.resources;
  return {
    id: environment.id,
    name: environment.name,
    location: environment.location.apply(regionName),
    defaultDomain: environment.defaultDomain,
    workloadProfileName: environment.apply(({ workloadProfiles: profiles }) => {
      if (!profiles || profiles.length === 0) {
        // A Consumption-only environment: no profile to name, and smaller replicas.
        if (cpu > CONSUMPTION_ONLY_MAX_CPU) {
          throw new Error(`containerAppCpu: ${cpu} vCPUs do not fit the Container Apps environment ${name}, which has no workload profiles (${CONSUMPTION_ONLY_MAX_CPU} vCPUs at most there)`);
        }
        return undefined;
      }
      const consumption = profiles.find((profile) => profile.workloadProfileType === CONSUMPTION_PROFILE);
      if (!consumption) {
        throw new Error(
          `the Container Apps environment ${name} has no ${CONSUMPTION_PROFILE} workload profile, which the app runs on: add it (az containerapp env workload-profile add --workload-profile-type ${CONSUMPTION_PROFILE})`,
        );
      }
      return consumption.name;
    }),
  };
}
