import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { readJournal } from "./host-journal.js";
import { applyKernelSettings, KERNEL_SETTINGS, restoreKernelSettings } from "./kernel-settings.js";
import { tempDir } from "./testing/fakes.js";

/** A /proc/sys of the test's own, holding a stock kernel's values. */
const STOCK: Record<string, string> = {
  "vm.overcommit_memory": "0",
  "vm.panic_on_oom": "0",
  "kernel.panic": "0",
  "kernel.panic_on_oops": "0",
  "kernel.keys.root_maxkeys": "1000000",
  "kernel.keys.root_maxbytes": "25000000",
};

describe("platform: the kernel settings", () => {
  let tmp: ReturnType<typeof tempDir>;
  let procSys: string;
  let journal: string;
  const file = (name: string) => path.join(procSys, ...name.split("."));
  const value = (name: string) => fs.readFileSync(file(name), "utf8").trim();
  beforeEach(() => {
    tmp = tempDir();
    procSys = path.join(tmp.dir, "sys");
    journal = path.join(tmp.dir, "host-changes.json");
    for (const [name, v] of Object.entries(STOCK)) {
      fs.mkdirSync(path.dirname(file(name)), { recursive: true });
      fs.writeFileSync(file(name), `${v}\n`);
    }
  });
  afterEach(() => tmp.remove());

  it("are the kubelet's, set by up with the host's values recorded, and put back by down", () => {
    assert.deepEqual(applyKernelSettings(journal, procSys), ["vm.overcommit_memory 0 -> 1", "kernel.panic 0 -> 10", "kernel.panic_on_oops 0 -> 1"]);
    for (const [name, v] of Object.entries(KERNEL_SETTINGS)) assert.equal(value(name), v);
    restoreKernelSettings(journal, procSys);
    for (const [name, v] of Object.entries(STOCK)) assert.equal(value(name), v, name);
    assert.deepEqual(readJournal(journal).sysctls, []);
  });

  it("a second up keeps the host's values, not the platform's, for down", () => {
    applyKernelSettings(journal, procSys);
    assert.deepEqual(applyKernelSettings(journal, procSys), []);
    restoreKernelSettings(journal, procSys);
    assert.equal(value("kernel.panic"), "0");
  });

  it("a setting someone changed while the platform ran is left as they set it", () => {
    applyKernelSettings(journal, procSys);
    fs.writeFileSync(file("kernel.panic"), "30");
    const notes = restoreKernelSettings(journal, procSys);
    assert.equal(value("kernel.panic"), "30");
    assert.ok(notes.some((n) => /kernel\.panic is 30, neither the host's 0 nor the platform's 10/.test(n)));
  });
});
