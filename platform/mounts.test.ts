import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { mountsOfType, mountsUnder, removeTree, unmountUnder } from "./mounts.js";
import { fakeMounts, tempDir } from "./testing/fakes.js";

/** The mount table of a typical host (this machine's, in short) with the platform's mounts under its state directory. */
const HOST_TABLE = [
  "proc /proc proc rw,relatime 0 0",
  "sysfs /sys sysfs rw,relatime 0 0",
  "devtmpfs /dev devtmpfs rw,relatime 0 0",
  "/dev/vda / ext4 rw,relatime 0 0",
  "cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0",
  "cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0",
  "tmpfs /root/.local/state/adf-webhook-aks/platform2/x tmpfs rw 0 0",
  "tmpfs /root/.local/state/adf-webhook-aks/platform/kubelet/root/pods/p/volumes/kubernetes.io~projected/token tmpfs rw 0 0",
  "nsfs /root/.local/state/adf-webhook-aks/platform/containerd/state/io.containerd.grpc.v1.cri/netns/cni-1 nsfs rw 0 0",
  "tmpfs /root/.local/state/adf-webhook-aks/platform/with\\040space tmpfs rw 0 0",
].join("\n");
const STATE = "/root/.local/state/adf-webhook-aks/platform";

describe("platform: mounts under a directory", () => {
  it("are the ones strictly under it, deepest first, with the kernel's escapes decoded", () => {
    assert.deepEqual(mountsUnder(HOST_TABLE, STATE), [
      `${STATE}/kubelet/root/pods/p/volumes/kubernetes.io~projected/token`,
      `${STATE}/containerd/state/io.containerd.grpc.v1.cri/netns/cni-1`,
      `${STATE}/with space`,
    ]);
  });

  it("never match the host's mounts: an empty or non-canonical directory is refused, not matched against everything", () => {
    // Before: down with ADF_PLATFORM_STATE='' matched every line of the table, / included.
    assert.throws(() => mountsUnder(HOST_TABLE, ""), /not a canonical directory/);
    assert.throws(() => mountsUnder(HOST_TABLE, "/"), /not a canonical directory/);
    assert.throws(() => mountsUnder(HOST_TABLE, `${STATE}/`), /not a canonical directory/);
    assert.throws(() => mountsUnder(HOST_TABLE, "relative"), /not a canonical directory/);
  });

  it("lists the cgroup hierarchies by type", () => {
    assert.deepEqual(mountsOfType(HOST_TABLE, ["cgroup", "cgroup2"]), ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified"]);
  });

  it("are all unmounted, and removing the directory is refused while one stays", () => {
    const tmp = tempDir();
    try {
      const dir = path.join(tmp.dir, "state");
      fs.mkdirSync(path.join(dir, "a", "b"), { recursive: true });
      const ops = fakeMounts(["/proc", path.join(dir, "a"), path.join(dir, "a", "b")], [path.join(dir, "a")]);
      assert.deepEqual(unmountUnder(dir, ops), [path.join(dir, "a")]);
      assert.deepEqual(ops.unmounted, [path.join(dir, "a", "b")]);
      assert.throws(() => removeTree(dir, ops), /not deleting .*: still mounted under it: .*\/a$/);
      assert.ok(fs.existsSync(path.join(dir, "a", "b")));
      const free = fakeMounts(["/proc", path.join(dir, "a")]);
      removeTree(dir, free);
      assert.equal(fs.existsSync(dir), false);
      assert.deepEqual(free.table(), "tmpfs /proc tmpfs rw 0 0\n");
    } finally {
      tmp.remove();
    }
  });
});
