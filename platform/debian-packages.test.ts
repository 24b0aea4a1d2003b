import * as assert from "node:assert/strict";

import { ensureDebianPackages, POLICY_RC_D, type PackageHost } from "./debian-packages.js";

/** A Debian host whose apt-get enables (and would start) the services of what it installs, as docker.io's maintainer scripts do. */
function debianHost(options: { policyRcD?: boolean } = {}): PackageHost & { calls: string[]; policyDuringInstall?: boolean } {
  const files = new Set(["/usr/bin/systemctl", "/usr/sbin/ip", "/usr/bin/openssl", ...(options.policyRcD ? [POLICY_RC_D] : [])]);
  const enabled = new Set(["ssh.service"]);
  const rc = new Set(["S01ssh"]);
  const host: PackageHost & { calls: string[]; policyDuringInstall?: boolean } = {
    calls: [],
    isRoot: () => true,
    exists: (file) => files.has(file),
    writeExecutable: (file) => void files.add(file),
    remove: (file) => void files.delete(file),
    rcStartLinks: () => [...rc],
    run: async (file, args) => {
      host.calls.push([file, ...args].join(" "));
      if (file === "apt-get" && args[0] === "install") {
        host.policyDuringInstall = files.has(POLICY_RC_D);
        ["docker.service", "docker.socket", "containerd.service", "docker-registry.service"].forEach((u) => enabled.add(u));
        ["S01docker", "S01docker-registry"].forEach((l) => rc.add(l));
      }
      if (file === "systemctl" && args[0] === "list-unit-files") return [...enabled].map((u) => `${u} enabled enabled`).join("\n") + "\n";
      if (file === "systemctl" && args[0] === "disable") args.slice(1).forEach((u) => enabled.delete(u));
      return "";
    },
  };
  return host;
}

describe("platform: Debian packages", () => {
  const quiet = () => undefined;

  it("are installed with their services neither started nor left enabled", async () => {
    const host = debianHost();
    await ensureDebianPackages(quiet, host);
    assert.equal(host.policyDuringInstall, true, "no policy-rc.d denied service starts during the install");
    assert.equal(host.exists(POLICY_RC_D), false, "the platform's policy-rc.d is left behind");
    assert.ok(host.calls.includes("systemctl disable docker.service docker.socket containerd.service docker-registry.service"), host.calls.join("\n"));
    assert.ok(host.calls.includes("update-rc.d docker disable"));
    assert.ok(host.calls.includes("update-rc.d docker-registry disable"));
    assert.ok(!host.calls.some((c) => c.includes("ssh")), "a service enabled before is touched");
  });

  it("keep the host's own policy-rc.d", async () => {
    const host = debianHost({ policyRcD: true });
    await ensureDebianPackages(quiet, host);
    assert.equal(host.exists(POLICY_RC_D), true);
  });
});
