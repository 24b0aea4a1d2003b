import * as assert from "node:assert/strict";

import YAML from "yaml";

import { kubeloginArgs, toKubeloginMode } from "./kubelogin.js";
import { run } from "./testing/harness.js";
import { AKS_USER_KUBECONFIG } from "./testing/fake-azure.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- kubeconfigs are untyped YAML */

const execOf = (kubeconfig: string): any => (YAML.parse(kubeconfig) as any).users[0].user.exec;

describe("clusters without local accounts: kubelogin", () => {
  for (const mode of ["azurecli", "workloadidentity", "spn"] as const) {
    it(`${mode}: the same exec entry, logging in non-interactively, with no client id or secret in it`, () => {
      const converted = toKubeloginMode(AKS_USER_KUBECONFIG, mode);
      const exec = execOf(converted);
      assert.equal(exec.command, "kubelogin");
      assert.deepEqual(exec.args, [
        "get-token",
        "--login",
        mode,
        "--environment",
        "AzurePublicCloud",
        "--server-id",
        "6dae42f8-4368-4678-94ff-3960e28e3630",
        "--tenant-id",
        "72f988bf-86f1-41af-91ab-2d7cd011db47",
      ]);
      assert.equal(exec.apiVersion, "client.authentication.k8s.io/v1beta1");
      assert.equal(exec.env, undefined);
      const parsed = YAML.parse(converted) as any;
      assert.equal(parsed.clusters[0].cluster.server, "https://aks-dns-abc.hcp.westeurope.azmk8s.io:443");
      assert.equal(parsed["current-context"], "aks");
    });
  }

  it("reads --flag=value as well, and refuses an entry without a server id", () => {
    assert.deepEqual(kubeloginArgs(["get-token", "--server-id=abc", "--login=devicecode"], "azurecli"), ["get-token", "--login", "azurecli", "--server-id", "abc"]);
    assert.throws(() => kubeloginArgs(["get-token"], "azurecli"), /no --server-id/);
  });

  it("a kubeconfig without kubelogin (Entra integration off) is refused with what to do", () => {
    const certificateUser = "apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    client-certificate-data: QQ==\n";
    assert.throws(() => toKubeloginMode(certificateUser, "azurecli"), /use clusterCredentials admin/);
  });

  it("the program reads the user kubeconfig (format exec) and gives the provider the converted one, secret", async () => {
    const r = await run({ clusterCredentials: "workloadidentity" });
    const call = r.calls.find((c) => c.token === "azure-native:containerservice:listManagedClusterUserCredentials");
    assert.ok(call);
    assert.equal(call.inputs.format, "exec");
    assert.ok(!r.calls.some((c) => c.token === "azure-native:containerservice:listManagedClusterAdminCredentials"));
    const provider = r.one("pulumi:providers:kubernetes");
    assert.deepEqual(execOf((provider.inputs as any).kubeconfig).args.slice(0, 3), ["get-token", "--login", "workloadidentity"]);
    assert.deepEqual(provider.secretPaths, ["kubeconfig"]);
  });
});
