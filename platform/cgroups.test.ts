import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { CGROUP_ROOT, makeCgroupRoot, removeCgroupRoot } from "./cgroups.js";
import { tempDir } from "./testing/fakes.js";

describe("platform: its cgroups", () => {
  it("are made in every hierarchy and removed with all under them, leaving the host's", () => {
    const tmp = tempDir();
    try {
      const hierarchies = ["memory", "cpu", "unified"].map((h) => path.join(tmp.dir, h));
      hierarchies.forEach((h) => fs.mkdirSync(path.join(h, "kubepods"), { recursive: true }));
      makeCgroupRoot(hierarchies);
      // What the kubelet and dockerd make under it.
      fs.mkdirSync(path.join(hierarchies[0], CGROUP_ROOT, "kubepods", "besteffort", "pod1", "c1"), { recursive: true });
      fs.mkdirSync(path.join(hierarchies[1], CGROUP_ROOT, "docker", "b1"), { recursive: true });
      removeCgroupRoot(hierarchies);
      for (const h of hierarchies) assert.deepEqual(fs.readdirSync(h), ["kubepods"]);
    } finally {
      tmp.remove();
    }
  });
});
