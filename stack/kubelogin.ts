import YAML from "yaml";

/**
 * Clusters whose local accounts are disabled refuse the admin kubeconfig; the user kubeconfig
 * (`listManagedClusterUserCredentials`, format `exec`) authenticates through kubelogin instead. As
 * AKS returns it, kubelogin signs in interactively (`--login devicecode`), which no `pulumi up`
 * can answer. This does what `kubelogin convert-kubeconfig -l <mode>` does (Azure/kubelogin
 * docs/book/src/cli/convert-kubeconfig.md): the same exec entry, with a non-interactive login mode
 * whose identity comes from the environment, so the kubeconfig holds no secret and reads the same
 * on every machine.
 *  - azurecli: the Azure CLI's signed-in identity (a workstation after `az login`, the AzureCLI@2 task);
 *  - workloadidentity: AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE;
 *  - spn: AAD_SERVICE_PRINCIPAL_CLIENT_ID and AAD_SERVICE_PRINCIPAL_CLIENT_SECRET (or AZURE_CLIENT_ID
 *    and AZURE_CLIENT_SECRET).
 * The Kubernetes provider runs `kubelogin` from PATH on the machine that runs Pulumi.
 */
export const KUBELOGIN_MODES = ["azurecli", "workloadidentity", "spn"] as const;
export type KubeloginMode = (typeof KUBELOGIN_MODES)[number];

/** Options whose value is kept as AKS wrote it: which server application, tenant and cloud. */
const KEPT = new Set(["--server-id", "--tenant-id", "--environment", "-e", "-t"]);

interface ExecUser {
  name?: string;
  user?: { exec?: { command?: string; args?: string[]; env?: unknown; [key: string]: unknown }; [key: string]: unknown };
}

/** The kubelogin `get-token` arguments for a login mode, keeping the server, tenant and cloud of `args`. */
export function kubeloginArgs(args: readonly string[], mode: KubeloginMode): string[] {
  const result = ["get-token", "--login", mode];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const [flag, inline] = arg.split("=", 2) as [string, string | undefined];
    if (!flag.startsWith("-")) continue;
    const value = inline ?? args[i + 1];
    if (inline === undefined && value !== undefined && !value.startsWith("-")) i++;
    if (KEPT.has(flag) && value !== undefined) result.push(flag, value);
  }
  if (!result.includes("--server-id")) throw new Error("the kubeconfig's kubelogin entry names no --server-id");
  return result;
}

/** A user kubeconfig (text) with every kubelogin exec entry switched to `mode`. */
export function toKubeloginMode(kubeconfig: string, mode: KubeloginMode): string {
  const doc = YAML.parseDocument(kubeconfig);
  const config = doc.toJS() as { users?: ExecUser[] };
  let converted = 0;
  for (const user of config.users ?? []) {
    const exec = user.user?.exec;
    if (!exec || !/(^|[\\/])kubelogin(\.exe)?$/.test(exec.command ?? "")) continue;
    exec.command = "kubelogin";
    exec.args = kubeloginArgs(exec.args ?? [], mode);
    // The identity comes from the environment Pulumi runs in; the kubeconfig keeps none.
    delete exec.env;
    converted++;
  }
  if (converted === 0) {
    throw new Error(
      "the cluster's user kubeconfig has no kubelogin entry: Microsoft Entra ID integration is off, so local accounts are on; use clusterCredentials admin",
    );
  }
  return YAML.stringify(config);
}
