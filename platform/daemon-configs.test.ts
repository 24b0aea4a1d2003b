import * as assert from "node:assert/strict";

import { cniConfig, containerdConfig, shimSocketName } from "./containerd.js";
import { dockerdArgs, dockerdConfig } from "./docker-engine.js";
import { kubeletConfig } from "./kubelet.js";
import { DOCKER_BRIDGE, POD_BRIDGE } from "./network.js";

/** What each daemon is told, so that it changes nothing on the host the platform does not record and undo. */
describe("platform: the daemons' configurations", () => {
  it("the kubelet sets no kernel setting and no iptables chain, and keeps its files and cgroups apart", () => {
    const config = kubeletConfig("/state/kubelet") as Record<string, unknown>;
    assert.equal(config.protectKernelDefaults, true);
    assert.equal(config.makeIPTablesUtilChains, false);
    assert.equal(config.volumePluginDir, "/state/kubelet/volume-plugins");
    assert.equal(config.cgroupRoot, "/adf-webhook-platform");
  });

  it("dockerd forwards nothing, leaves docker0 and the host's /etc/docker alone, and has a bridge of its own", () => {
    const args = dockerdArgs("/state/docker", "unix:///state/docker/docker.sock");
    for (const flag of ["--ip-forward=false", "--iptables=false", "--ip-masq=false", `--bridge=${DOCKER_BRIDGE.name}`, "--config-file=/state/docker/daemon.json", "--cgroup-parent=/adf-webhook-platform/docker"]) {
      assert.ok(args.includes(flag), flag);
    }
    assert.ok(!args.includes("--bridge=none"), "--bridge=none deletes the host's docker0");
    assert.deepEqual(dockerdConfig("/state/docker"), { "deprecated-key-path": "/state/docker/key.json" });
  });

  it("containerd keeps the pods' network namespaces and runc's state under its root, and runs no NRI socket", () => {
    const config = containerdConfig("/state/containerd", "/state/containerd/containerd.sock", "pause");
    assert.match(config, /^\s*netns_mounts_under_state_dir = true$/m);
    assert.match(config, /^\s*Root = "\/state\/containerd\/runc"$/m);
    assert.match(config, /\[plugins\."io\.containerd\.nri\.v1\.nri"\]\n\s*disable = true/);
  });

  it("the pod network is no gateway (the bridge plugin would turn on IP forwarding) and masquerades nothing", () => {
    const bridge = (cniConfig("/state/ipam") as { plugins: Record<string, unknown>[] }).plugins[0];
    assert.equal(bridge.bridge, POD_BRIDGE.name);
    assert.equal(bridge.isGateway, false);
    assert.equal(bridge.ipMasq, false);
  });

  it("a shim's socket is named as containerd names it", () => {
    // printf %s /run/containerd/containerd.sock/k8s.io/abc | sha256sum: what pkg/shim SocketAddress hashes.
    assert.equal(shimSocketName("/run/containerd/containerd.sock", "abc", false), "a99a1752d3a0fadfb1f869026f16760475df03a572e20f4ccea9e6c1e5470b72");
  });
});
