import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { linksInto, recordHostPaths, removeEntries, removeHostPathsMade } from "./host-paths.js";
import { tempDir } from "./testing/fakes.js";

describe("platform: host paths its programs make", () => {
  let tmp: ReturnType<typeof tempDir>;
  let journal: string;
  const p = (...parts: string[]) => path.join(tmp.dir, ...parts);
  beforeEach(() => {
    tmp = tempDir();
    journal = p("state", "host-changes.json");
    fs.mkdirSync(p("state"));
  });
  afterEach(() => tmp.remove());

  it("are removed by down when they did not exist before up, and kept when they did", () => {
    fs.mkdirSync(p("var", "log", "containers"), { recursive: true });
    const watched = [p("var", "log", "containers"), p("run", "containerd"), p("run", "containerd", "s")];
    recordHostPaths(journal, watched);
    fs.mkdirSync(p("run", "containerd", "s"), { recursive: true });
    assert.deepEqual(removeHostPathsMade(journal), []);
    assert.equal(fs.existsSync(p("run", "containerd")), false);
    assert.equal(fs.existsSync(p("var", "log", "containers")), true);
  });

  it("made but holding another's entry, stay, and say so", () => {
    recordHostPaths(journal, [p("run", "docker")]);
    fs.mkdirSync(p("run", "docker"), { recursive: true });
    fs.writeFileSync(p("run", "docker", "theirs.sock"), "");
    assert.deepEqual(removeHostPathsMade(journal), [`${p("run", "docker")} (made while the platform ran) holds theirs.sock: left`]);
    assert.ok(fs.existsSync(p("run", "docker", "theirs.sock")));
  });

  it("are recorded once: a second up does not take the first one's paths for the host's", () => {
    recordHostPaths(journal, [p("var", "lib", "cni")]);
    fs.mkdirSync(p("var", "lib", "cni"), { recursive: true });
    recordHostPaths(journal, [p("var", "lib", "cni")]);
    removeHostPathsMade(journal);
    assert.equal(fs.existsSync(p("var", "lib", "cni")), false);
  });

  it("lose only the entries that are the platform's: log links into its state directory", () => {
    fs.mkdirSync(p("containers"));
    fs.mkdirSync(p("state", "pod-logs"));
    fs.symlinkSync(p("state", "pod-logs", "api.log"), p("containers", "api_ns_api-1.log"));
    fs.symlinkSync(p("elsewhere", "x.log"), p("containers", "host-pod.log"));
    assert.equal(linksInto(p("containers", "api_ns_api-1.log"), p("state")), true);
    assert.equal(removeEntries(p("containers"), (_, full) => linksInto(full, p("state"))), 1);
    assert.deepEqual(fs.readdirSync(p("containers")), ["host-pod.log"]);
  });
});
