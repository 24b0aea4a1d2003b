import { z } from "zod";

import { oneOf, trueOrFalse, wholeNumber } from "../../api/src/settings.js";
import { KUBELOGIN_MODES } from "../kubelogin.js";
import { evenWithOtherProblems, refused, required, secret, unknownChoice } from "./values.js";

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
const kinds = oneOf(["new", "existing", "kubeconfig"]);

const whenExisting = "when target is existing";
const whenKubeconfig = "when target is kubeconfig";

export const targetSchema = z.discriminatedUnion(
  "target",
  [
    /** Create a resource group, an ACR (Basic) and an AKS cluster. */
    z
      .object({
        target: z.literal("new").optional(),
        location,
        resourceGroupName: z.string().optional(),
        registryName: z.string().regex(/^[a-zA-Z0-9]{5,50}$/, "must be 5 to 50 letters or digits (an Azure Container Registry name)").optional(),
        clusterName: z.string().optional(),
        // AKS's own limit: at most 1000 nodes in a Virtual Machine Scale Sets node pool.
        nodeCount: wholeNumber(1, 1000).prefault("2"),
        nodeVmSize: z.string().prefault("Standard_D2s_v5"),
        kubernetesVersion: z.string().optional(),
        clusterCredentials,
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
      })
      .superRefine(({ registryUsername, registryPassword }, ctx) => {
        if ((registryUsername === undefined) === (registryPassword === undefined)) return;
        const missing = registryUsername === undefined ? "registryUsername" : "registryPassword";
        ctx.addIssue({ code: "custom", path: [missing], message: "registryUsername and registryPassword go together: set both or neither" });
      }, evenWithOtherProblems)
      .transform(({ target: _, clusterCredentials: __, ...keys }) => ({ kind: "kubeconfig" as const, ...keys })),
  ],
  unknownChoice(kinds),
);

export type Target = z.output<typeof targetSchema>;
export type TargetKind = Target["kind"];

/**
 * `target` on its own: the kind of target the keys name, for the other keys' rules that depend on it,
 * even when this target's own keys are refused (so that all problems are reported at once).
 */
export const targetKindSchema = z.object({ target: kinds.prefault("new") }).transform(({ target }): TargetKind => target);
export type ClusterCredentials = z.output<typeof clusterCredentials>;
