import { createHash } from "node:crypto";

import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as containerservice from "@pulumi/azure-native/containerservice";
import * as resources from "@pulumi/azure-native/resources";
import * as pulumi from "@pulumi/pulumi";

import type { RegistryAuth, Target } from "./config";

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

export interface AzureInfo {
  registry: RegistryInfo;
  cluster: ClusterInfo;
  /** The resource group the stack owns (target new) or the cluster's (existing). */
  resourceGroupName?: pulumi.Output<string>;
  /** Where Azure resources are created. */
  location: string;
  /** What must exist before pods can pull (the AcrPull role assignment). */
  pullAccess: pulumi.Resource[];
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
      if (!value) throw new Error("the AKS cluster returned no admin kubeconfig (are local accounts disabled?)");
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
export function createAzure(target: Extract<Target, { kind: "new" }>, registryAuth: RegistryAuth): AzureInfo {
  const { location } = target;
  const group = new resources.ResourceGroup("rg", { location, resourceGroupName: target.resourceGroupName });

  const client = authorization.getClientConfigOutput();
  const registryName =
    target.registryName ?? client.subscriptionId.apply((sub) => defaultRegistryName(sub, pulumi.getProject(), pulumi.getStack()));
  const registry = new containerregistry.Registry("acr", {
    resourceGroupName: group.name,
    location,
    registryName,
    sku: { name: containerregistry.SkuName.Basic },
    // Only when the push uses the admin user; otherwise it stays off.
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
    location,
    pullAccess: [acrPull],
    resourceGroupName: group.name,
    registry: {
      name: registry.name,
      server: registry.loginServer,
      credentials: registryAuth === "admin" ? adminCredentials(group.name, registry.name) : undefined,
    },
    cluster: { name: cluster.name, kubeconfig: adminKubeconfig(group.name, cluster.name) },
  };
}

/** Target existing: look the ACR and the AKS cluster up, and grant AcrPull unless told not to. */
export function existingAzure(target: Extract<Target, { kind: "existing" }>, registryAuth: RegistryAuth): AzureInfo {
  const registry = containerregistry.getRegistryOutput({ registryName: target.registryName, resourceGroupName: target.registryResourceGroup });
  const cluster = containerservice.getManagedClusterOutput({ resourceName: target.clusterName, resourceGroupName: target.clusterResourceGroup });

  const pullAccess = target.grantAcrPull
    ? [grantAcrPull("acr-pull", registry.id, kubeletObjectId(cluster.identityProfile, target.clusterName))]
    : [];

  return {
    location: target.location,
    pullAccess,
    resourceGroupName: pulumi.output(target.clusterResourceGroup),
    registry: {
      name: registry.name,
      server: registry.loginServer,
      credentials: registryAuth === "admin" ? adminCredentials(target.registryResourceGroup, target.registryName) : undefined,
    },
    cluster: { name: cluster.name, kubeconfig: adminKubeconfig(target.clusterResourceGroup, target.clusterName) },
  };
}

/** Target kubeconfig: no Azure; the registry and the cluster come from config. */
export function externalPlatform(target: Extract<Target, { kind: "kubeconfig" }>): AzureInfo {
  return {
    location: target.location,
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
