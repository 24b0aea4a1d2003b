import { createHash } from "node:crypto";

import * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as containerregistry from "@pulumi/azure-native/containerregistry/index.js";
import * as containerservice from "@pulumi/azure-native/containerservice/index.js";
import * as resources from "@pulumi/azure-native/resources/index.js";
import * as pulumi from "@pulumi/pulumi";

import { ACR_TOKEN_USERNAME, exchangeForAcrRefreshToken } from "./acr-token.js";
import type { AzureRest } from "./azure-rest.js";
import type { RegistryAuth } from "./config/image.js";
import type { ClusterCredentials, Target } from "./config/target.js";
import { toKubeloginMode } from "./kubelogin.js";
import { providerStates, registrationMessage } from "./provider-registrations.js";

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

/** AcrPull on the registry for the cluster's kubelet identity: the nodes pull without any imagePullSecret. */
function grantAcrPull(name: string, registryId: pulumi.Input<string>, kubeletObjectId: pulumi.Input<string>, opts?: pulumi.CustomResourceOptions) {
  return new authorization.RoleAssignment(
    name,
    {
      scope: registryId,
      principalId: kubeletObjectId,
      principalType: authorization.PrincipalType.ServicePrincipal,
      // The registry id's subscription (/subscriptions/<id>/...) is the role definition's.
      roleDefinitionId: pulumi
        .output(registryId)
        .apply((id) => `/subscriptions/${id.split("/")[2]}/providers/Microsoft.Authorization/roleDefinitions/${ACR_PULL_ROLE_ID}`),
      description: "AKS kubelet pulls the adf-webhook images",
    },
    opts,
  );
}

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

/** Target new: resource group, ACR (Basic), AKS (system-assigned identity, small system pool), AcrPull. */
export function createAzure(
  target: Extract<Target, { kind: "new" }>,
  registryAuth: RegistryAuth,
  session: AzureSession,
  preflight: pulumi.Output<string[]>,
): Platform {
  const { location } = target;
  // The first resource: it waits for the provider-registration preflight, and everything else for it.
  const group = new resources.ResourceGroup("rg", { location: preflight.apply(() => location), resourceGroupName: target.resourceGroupName });

  const registryName =
    target.registryName ?? session.subscriptionId.apply((sub) => defaultRegistryName(sub, pulumi.getProject(), pulumi.getStack()));
  const registry = new containerregistry.Registry("acr", {
    resourceGroupName: group.name,
    location,
    registryName,
    sku: { name: containerregistry.SkuName.Basic },
    // Only when the push uses the admin user (a shared secret many organisations' policies forbid).
    adminUserEnabled: registryAuth === "admin",
  });

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

  const acrPull = grantAcrPull("acr-pull", registry.id, kubeletObjectId(cluster.identityProfile, cluster.name));

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

/** Target existing: look the ACR and the AKS cluster up, and grant AcrPull unless told not to. */
export function existingAzure(target: Extract<Target, { kind: "existing" }>, registryAuth: RegistryAuth, session: AzureSession): Platform {
  const registry = containerregistry.getRegistryOutput({ registryName: target.registryName, resourceGroupName: target.registryResourceGroup });
  const cluster = containerservice.getManagedClusterOutput({ resourceName: target.clusterName, resourceGroupName: target.clusterResourceGroup });

  const pullAccess = target.grantAcrPull
    ? [grantAcrPull("acr-pull", registry.id, kubeletObjectId(cluster.identityProfile, target.clusterName))]
    : [];

  return {
    // "West Europe" or "westeurope": the name, as Azure writes it in host names.
    region: cluster.location.apply((region) => region.toLowerCase().replace(/\s+/g, "")),
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
