import * as path from "node:path";

import { binaryOf, type GoProgram } from "./go-build.js";
import { run } from "./processes.js";
import { CNI_PLUGINS, CONTAINERD, ETCD, KUBERNETES, RUNC } from "./versions.js";

/** The staging modules k8s.io/kubernetes replaces with its own folders; published as v0.<minor>.<patch>. */
function stagingReplaces(version: string): string[] {
  const staging = [
    "api", "apiextensions-apiserver", "apimachinery", "apiserver", "cli-runtime", "client-go", "cloud-provider",
    "cluster-bootstrap", "code-generator", "component-base", "component-helpers", "controller-manager", "cri-api",
    "cri-client", "csi-translation-lib", "dynamic-resource-allocation", "endpointslice", "externaljwt", "kms",
    "kube-aggregator", "kube-controller-manager", "kube-proxy", "kube-scheduler", "kubectl", "kubelet", "metrics",
    "mount-utils", "pod-security-admission", "sample-apiserver", "sample-cli-plugin", "sample-controller",
  ];
  const published = version.replace(/^v1\./, "v0.");
  return staging.map((m) => `k8s.io/${m} => k8s.io/${m} ${published}`);
}

/** Without these the binaries report v0.0.0, which pulumi-kubernetes and kubectl refuse or warn about. */
function versionFlags(version: string): string {
  const [, minor] = /^v1\.(\d+)\./.exec(version) ?? [];
  const flags: string[] = [];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    flags.push(`-X ${pkg}.gitVersion=${version}`, `-X ${pkg}.gitMajor=1`, `-X ${pkg}.gitMinor=${minor}`, `-X ${pkg}.gitTreeState=clean`);
  }
  return flags.join(" ");
}

const KUBE_BINARIES = ["kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl"] as const;

export const kubernetes: GoProgram = {
  name: "kubernetes",
  version: KUBERNETES,
  require: [`k8s.io/kubernetes ${KUBERNETES}`],
  replace: stagingReplaces(KUBERNETES),
  binaries: Object.fromEntries(KUBE_BINARIES.map((c) => [c, `k8s.io/kubernetes/cmd/${c}`])),
  ldflags: versionFlags(KUBERNETES),
  versionOf: (binary) => run(binary, path.basename(binary) === "kubectl" ? ["version", "--client"] : ["--version"]),
};

export const etcd: GoProgram = {
  name: "etcd",
  version: ETCD,
  require: [`go.etcd.io/etcd/server/v3 ${ETCD}`],
  binaries: { etcd: "go.etcd.io/etcd/server/v3" },
  versionOf: (binary) => run(binary, ["--version"]),
};


export const etcdBinary = () => binaryOf(etcd, "etcd");
export const kubeBinary = (name: (typeof KUBE_BINARIES)[number]) => binaryOf(kubernetes, name);

export const containerd: GoProgram = {
  name: "containerd",
  version: CONTAINERD,
  require: [`github.com/containerd/containerd/v2 ${CONTAINERD}`],
  binaries: Object.fromEntries(["containerd", "containerd-shim-runc-v2", "ctr"].map((b) => [b, `github.com/containerd/containerd/v2/cmd/${b}`])),
  ldflags: `-X github.com/containerd/containerd/v2/version.Version=${CONTAINERD}`,
  versionOf: async (binary) => (binary.endsWith("containerd-shim-runc-v2") ? await run(binary, ["-v"]) : await run(binary, ["--version"])),
};

/** The pod network: a bridge on the machine with one address per pod, no masquerading (pods reach nothing outside). */
export const cniPlugins: GoProgram = {
  name: "cni-plugins",
  version: CNI_PLUGINS,
  require: [`github.com/containernetworking/plugins ${CNI_PLUGINS}`],
  binaries: { bridge: "github.com/containernetworking/plugins/plugins/main/bridge", loopback: "github.com/containernetworking/plugins/plugins/main/loopback", "host-local": "github.com/containernetworking/plugins/plugins/ipam/host-local" },
  ldflags: `-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=${CNI_PLUGINS}`,
  // The plugins print their version on stderr.
  versionOf: (binary) => run("sh", ["-c", '"$0" --version 2>&1', binary]),
};

/** Debian's runc 1.1.5 cannot start containerd 2's containers here ("can't get final child's PID from pipe"). */
export const runc: GoProgram = {
  name: "runc",
  version: RUNC,
  require: [`github.com/opencontainers/runc ${RUNC}`],
  binaries: { runc: "github.com/opencontainers/runc" },
  tags: "seccomp",
  cgo: true,
  ldflags: `-X main.version=${RUNC.replace(/^v/, "")}`,
  versionOf: (binary) => run(binary, ["--version"]),
};
