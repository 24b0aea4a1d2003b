/**
 * The local platform on a real host (root): `up` then `down` leaves the host as it was; a failed `up`
 * leaves nothing behind; `up` refuses a range or an interface name in use; the host's `docker0` is
 * never touched. The rest of the platform's promises are shown without root in platform/*.test.ts.
 */
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";

import { down, up } from "../platform/index.js";
import { KERNEL_SETTINGS } from "../platform/kernel-settings.js";
import { kubectl } from "../platform/kubectl.js";
import { DOCKER_BRIDGE, HOST, PORTS, POD_BRIDGE, REGISTRY } from "../platform/network.js";
import { STATE } from "../platform/state.js";
import { takeSnapshot, type HostSnapshot } from "../platform/testing/host-snapshot.js";

const ip = (...args: string[]) => execFileSync("ip", args, { encoding: "utf8" });
const linkExists = (name: string) => fs.existsSync(`/sys/class/net/${name}`);

/** The parts of two snapshots that differ, by key, for a readable failure. */
function differences(before: HostSnapshot, after: HostSnapshot): string[] {
  const diffs: string[] = [];
  for (const key of Object.keys(before) as (keyof HostSnapshot)[]) {
    if (key === "sysctls") {
      for (const name of new Set([...Object.keys(before.sysctls), ...Object.keys(after.sysctls)])) {
        if (before.sysctls[name] !== after.sysctls[name]) diffs.push(`sysctl ${name}: ${before.sysctls[name]} -> ${after.sysctls[name]}`);
      }
    } else if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      diffs.push(`${key}: ${JSON.stringify(before[key])} -> ${JSON.stringify(after[key])}`);
    }
  }
  return diffs;
}

describe("the local platform on this host", function () {
  this.timeout(600_000);
  let madeDocker0 = false;

  before(async () => {
    // From a host without the platform (an earlier e2e file leaves it up for the next).
    await down();
    // A docker0 stands for the host's own Docker engine: the platform's must leave it alone.
    if (!linkExists("docker0")) {
      ip("link", "add", "docker0", "type", "bridge");
      madeDocker0 = true;
    }
  });
  after(() => {
    if (madeDocker0) ip("link", "delete", "docker0");
  });

  it("up and down leave the host as it was: kernel settings, network, mounts, paths, cgroups, processes", async () => {
    const before = takeSnapshot();
    await up();
    try {
      // A pod, for its network namespace, shim, cgroups, log link, CNI cache and token volume; the
      // controller manager makes the namespace's service account shortly after the API server starts.
      for (let tries = 0; !(await kubectl(["get", "serviceaccount", "default", "-n", "default"]).then(() => true, () => false)); tries++) {
        assert.ok(tries < 120, "no default service account after 60 s");
        await new Promise((r) => setTimeout(r, 500));
      }
      await kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "Pod", metadata: { name: "host-probe", namespace: "default" }, spec: { containers: [{ name: "pause", image: `${REGISTRY}/platform/pause:1` }] } }));
      await kubectl(["wait", "--for=condition=Ready", "pod/host-probe", "--timeout=120s"]);
      const during = takeSnapshot();
      const changedSettings = Object.keys(during.sysctls).filter((name) => during.sysctls[name] !== before.sysctls[name] && !/\.(cni-platform0|platform-dock0|veth[^.]*)(\.|$)/.test(name));
      assert.deepEqual(changedSettings.filter((name) => !(name in KERNEL_SETTINGS)), [], "up changed kernel settings other than the kubelet's (IP forwarding among them)");
      assert.equal(during.sysctls["net.ipv4.ip_forward"], before.sysctls["net.ipv4.ip_forward"]);
      assert.deepEqual(during.paths["/var/run/netns"], before.paths["/var/run/netns"], "a pod's network namespace is in /var/run/netns");
      assert.deepEqual(during.paths["/var/run/nri"], before.paths["/var/run/nri"], "NRI's socket was made");
      assert.deepEqual(during.paths["/etc/docker"], before.paths["/etc/docker"], "dockerd wrote in /etc/docker");
      assert.deepEqual(during.paths["/usr/libexec/kubernetes"], before.paths["/usr/libexec/kubernetes"]);
      assert.equal(during.iptables, before.iptables, "iptables rules were added");
      assert.ok(linkExists("docker0"), "docker0 was deleted");
      assert.deepEqual(during.mounts.filter((m) => !m.startsWith(STATE + "/") && !before.mounts.includes(m)), [], "something was mounted outside the state directory");
    } finally {
      await down();
    }
    const after = takeSnapshot();
    assert.deepEqual(differences(before, after), []);
    assert.equal(fs.existsSync(STATE), false);
    assert.ok(linkExists("docker0"), "docker0 was deleted");
  });

  it("a failed up leaves nothing running and nothing changed", async () => {
    const before = takeSnapshot();
    // The scheduler's port taken: up fails half-way, with etcd and the API server running.
    // It hangs up on whoever calls (the platform's readiness probe), so that it can close.
    const squatter = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => squatter.listen(PORTS.scheduler, HOST, resolve));
    try {
      await assert.rejects(up(), /up failed at kube-scheduler[\s\S]*everything it did is undone/);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    assert.deepEqual(differences(before, takeSnapshot()), []);
    assert.equal(fs.existsSync(STATE), false);
  });

  it("refuses to start on a range in use, and on an interface of its name that it did not make", async () => {
    const before = takeSnapshot();
    ip("link", "add", "platform-test0", "type", "bridge");
    try {
      ip("addr", "add", "10.244.1.77/32", "dev", "platform-test0");
      await assert.rejects(up(), new RegExp(`the range ${DOCKER_BRIDGE.cidr.replace(/\./g, "\\.")} that ${DOCKER_BRIDGE.name} needs is in use on this host: platform-test0 has the address 10\\.244\\.1\\.77/32`));
    } finally {
      ip("link", "delete", "platform-test0");
    }
    ip("link", "add", DOCKER_BRIDGE.name, "type", "bridge");
    try {
      await assert.rejects(up(), /a network interface named platform-dock0 exists and this platform did not make it/);
      assert.ok(linkExists(DOCKER_BRIDGE.name), "the platform deleted an interface it did not make");
    } finally {
      ip("link", "delete", DOCKER_BRIDGE.name);
    }
    assert.ok(!linkExists(POD_BRIDGE.name));
    assert.deepEqual(differences(before, takeSnapshot()), []);
  });
});
