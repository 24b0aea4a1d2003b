import { z } from "zod";

import { oneOf, trueOrFalse, wholeNumber } from "../../api/src/settings.js";
import { KUBELOGIN_MODES } from "../kubelogin.js";
import { evenWithOtherProblems, refused, required, secret, secretKeys, unknownChoice } from "./values.js";

/**
 * Where the cluster and the registry come from: the `target` key and the keys that go with it (the
 * other targets' keys mean nothing). Every key is documented in Pulumi.dev.yaml.
 */

/** The Azure region for everything the stack creates. */
const location = z.string().prefault("westeurope");

/**
 * How the Kubernetes provider signs in to AKS: the admin kubeconfig (local accounts), or the user
 * kubeconfig through kubelogin in one of its non-interactive modes (clusters without local accounts).
 */
const clusterCredentials = oneOf(["admin", ...KUBELOGIN_MODES]).prefault("admin");

/** The kinds of target: a branch each below. */
const kinds = oneOf(["new", "existing", "kubeconfig", "containerapps"]);

const whenExisting = "when target is existing";
const whenKubeconfig = "when target is kubeconfig";

/** An Azure Container Registry's name. */
const registryName = z.string().regex(/^[a-zA-Z0-9]{5,50}$/, "must be 5 to 50 letters or digits (an Azure Container Registry name)");

/**
 * The vCPUs of the Container App's replica. Container Apps takes fixed sizes only: 0.25 to 4 vCPUs in steps
 * of 0.25, memory twice that in GiB (4 vCPUs in an environment with workload profiles, 2 in a
 * Consumption-only one).
 */
const CONTAINER_APP_CPU = { min: 0.25, max: 4, step: 0.25 } as const;
const containerAppCpu = z
  .string()
  .regex(/^\d+(\.\d+)?$/, "must be a number of vCPUs such as 0.5")
  .transform(Number)
  .refine(
    (cpu) => cpu >= CONTAINER_APP_CPU.min && cpu <= CONTAINER_APP_CPU.max && Number.isInteger(cpu / CONTAINER_APP_CPU.step),
    `must be ${CONTAINER_APP_CPU.min} to ${CONTAINER_APP_CPU.max} vCPUs in steps of ${CONTAINER_APP_CPU.step} (Container Apps' sizes; memory is twice it in GiB)`,
  );

/** The keys of target containerapps, refused with the others. */
const containerAppsKeysRefused = (() => {
  const why = refused("applies to target containerapps only");
  return { appResourceGroup: why, environmentName: why, environmentResourceGroup: why, containerAppCpu: why };
})();

/** Something of target containerapps' the stack creates (named, or auto-named), or an existing one it uses. */
type CreatedOrExisting = { kind: "create"; name?: string } | { kind: "existing"; name: string; resourceGroupName: string };
const createdOrExisting = (name: string | undefined, resourceGroupName: string | undefined): CreatedOrExisting =>
  resourceGroupName === undefined ? { kind: "create", name } : { kind: "existing", name: name ?? "", resourceGroupName };

export const targetSchema = z.discriminatedUnion(
  "target",
  [
    /** Create a resource group, an ACR (Basic) and an AKS cluster. */
    z
      .object({
        target: z.literal("new").optional(),
        location,
        resourceGroupName: z.string().optional(),
        registryName: registryName.optional(),
        clusterName: z.string().optional(),
        // AKS's own limit: at most 1000 nodes in a Virtual Machine Scale Sets node pool.
        nodeCount: wholeNumber(1, 1000).prefault("2"),
        nodeVmSize: z.string().prefault("Standard_D2s_v5"),
        kubernetesVersion: z.string().optional(),
        clusterCredentials,
        ...containerAppsKeysRefused,
      })
      .transform(({ target: _, ...keys }) => ({ kind: "new" as const, ...keys })),
    /** Use an existing ACR and an existing AKS cluster. */
    z
      .object({
        target: z.literal("existing"),
        location,
        registryName: required(whenExisting),
        registryResourceGroup: required(whenExisting),
        clusterName: required(whenExisting),
        clusterResourceGroup: required(whenExisting),
        // The AcrPull role assignment for the kubelet identity (false when the ACR is already attached).
        grantAcrPull: trueOrFalse.prefault("true"),
        clusterCredentials,
        ...containerAppsKeysRefused,
      })
      .transform(({ target: _, ...keys }) => ({ kind: "existing" as const, ...keys })),
    /** Any cluster by kubeconfig and any registry: no Azure at all (unless dataFactory is on). */
    z
      .object({
        target: z.literal("kubeconfig"),
        location,
        kubeconfig: secret(`${whenKubeconfig} (pulumi config set --secret kubeconfig "$(cat ~/.kube/config)")`),
        kubeContext: z.string().optional(),
        registryServer: required(whenKubeconfig),
        registryUsername: z.string().optional(),
        registryPassword: secret().optional(),
        clusterCredentials: refused("applies to AKS only; with target kubeconfig the kubeconfig says how to sign in"),
        ...containerAppsKeysRefused,
      })
      .superRefine(({ registryUsername, registryPassword }, ctx) => {
        if ((registryUsername === undefined) === (registryPassword === undefined)) return;
        const missing = registryUsername === undefined ? "registryUsername" : "registryPassword";
        ctx.addIssue({ code: "custom", path: [missing], message: "registryUsername and registryPassword go together: set both or neither" });
      }, evenWithOtherProblems)
      .transform(({ target: _, clusterCredentials: __, ...keys }) => ({ kind: "kubeconfig" as const, ...keys })),
    /**
     * Azure Container Apps (docs/containerapps.md): a resource group, an ACR (Basic), a Log Analytics
     * workspace and a managed environment, each created or brought, and the Container App with its pull
     * identity.
     */
    z
      .object({
        target: z.literal("containerapps"),
        location,
        // The group the stack creates (unset: auto-named), or an existing one for what it creates.
        resourceGroupName: z.string().optional(),
        appResourceGroup: z.string().optional(),
        // The ACR: created (registryName, else a stable default), or an existing one (with registryResourceGroup).
        registryName: registryName.optional(),
        registryResourceGroup: z.string().optional(),
        // The managed environment: created (environmentName, else auto-named), or an existing one (with environmentResourceGroup).
        environmentName: z
          .string()
          .regex(/^[a-z0-9]([-a-z0-9]{0,58}[a-z0-9])$/, "must be 2 to 60 lower-case letters, digits or '-', starting and ending with a letter or digit (a Container Apps environment name)")
          .optional(),
        environmentResourceGroup: z.string().optional(),
        containerAppCpu: containerAppCpu.prefault("0.5"),
        clusterCredentials: refused("applies to AKS only; target containerapps runs no cluster"),
      })
      .superRefine((keys, ctx) => {
        const problem = (key: string, message: string) => ctx.addIssue({ code: "custom", path: [key], message });
        if (keys.resourceGroupName !== undefined && keys.appResourceGroup !== undefined) {
          problem("resourceGroupName", "names the group the stack creates, appResourceGroup an existing one to use instead: set one of them");
        }
        if (keys.registryResourceGroup !== undefined && keys.registryName === undefined) {
          problem("registryName", "is required when registryResourceGroup is set (the existing registry's name)");
        }
        if (keys.environmentResourceGroup !== undefined && keys.environmentName === undefined) {
          problem("environmentName", "is required when environmentResourceGroup is set (the existing environment's name)");
        }
      }, evenWithOtherProblems)
      .transform((keys) => ({
        kind: "containerapps" as const,
        location: keys.location,
        /** The group for what the stack creates: an existing one, or one it creates (named, or auto-named). */
        resourceGroup: keys.appResourceGroup !== undefined ? { kind: "existing" as const, name: keys.appResourceGroup } : { kind: "create" as const, name: keys.resourceGroupName },
        registry: createdOrExisting(keys.registryName, keys.registryResourceGroup),
        environment: createdOrExisting(keys.environmentName, keys.environmentResourceGroup),
        /** The replica's size: vCPUs, and memory twice that (Container Apps' fixed pairs). */
        resources: { cpu: keys.containerAppCpu, memory: `${keys.containerAppCpu * 2}Gi` },
      })),
  ],
  unknownChoice(kinds),
);

/** The target's keys set with `pulumi config set --secret`: its branches' `secret` fields. */
export const TARGET_SECRET_KEYS = [...new Set(targetSchema.options.flatMap((branch) => secretKeys(branch.in.shape)))];

export type Target = z.output<typeof targetSchema>;
export type TargetKind = Target["kind"];

/**
 * `target` on its own: the kind of target the keys name, for the other keys' rules that depend on it,
 * even when this target's own keys are refused (so that all problems are reported at once).
 */
export const targetKindSchema = z.object({ target: kinds.prefault("new") }).transform(({ target }): TargetKind => target);
export type ClusterCredentials = z.output<typeof clusterCredentials>;
