import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { canonicalStateDir, claimStateDir, MARKER, stateDirToRemove } from "./state-dir.js";
import { tempDir } from "./testing/fakes.js";

describe("platform: the state directory", () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir()));
  afterEach(() => tmp.remove());

  describe("the setting", () => {
    it("refuses an empty value, which used to make down unmount every mount of the host", () => {
      assert.throws(() => canonicalStateDir(""), /ADF_PLATFORM_STATE is set but empty/);
      assert.throws(() => canonicalStateDir("  "), /set but empty/);
    });

    it("refuses a relative path and the root", () => {
      assert.throws(() => canonicalStateDir("state"), /not an absolute path/);
      assert.throws(() => canonicalStateDir("/"), /the file system's root/);
      assert.throws(() => canonicalStateDir("/tmp/.."), /the file system's root/);
    });

    it("is canonical: no trailing slash, no `..`, no symlink, so the mounts under it are found", () => {
      assert.equal(canonicalStateDir(`${tmp.dir}/a/../state/`), path.join(tmp.dir, "state"));
      fs.mkdirSync(path.join(tmp.dir, "real"));
      fs.symlinkSync(path.join(tmp.dir, "real"), path.join(tmp.dir, "link"));
      assert.equal(canonicalStateDir(`${tmp.dir}//link/state`), path.join(tmp.dir, "real", "state"));
    });
  });

  describe("up", () => {
    it("makes a new directory with its marker, and takes it back at a second up", () => {
      const dir = path.join(tmp.dir, "deep", "state");
      assert.equal(claimStateDir(dir), true, "made by this up");
      assert.ok(fs.statSync(path.join(dir, MARKER)).isFile());
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
      assert.equal(claimStateDir(dir), false, "an earlier up's");
      assert.equal(stateDirToRemove(dir), true);
    });

    it("refuses an existing directory it did not make, and leaves it as it was", () => {
      fs.writeFileSync(path.join(tmp.dir, "precious"), "x");
      assert.throws(() => claimStateDir(tmp.dir), /refusing to use .* has no \.adf-webhook-aks-platform/);
      assert.deepEqual(fs.readdirSync(tmp.dir), ["precious"]);
      const empty = path.join(tmp.dir, "empty");
      fs.mkdirSync(empty);
      assert.throws(() => claimStateDir(empty), /refusing/);
    });
  });

  describe("down", () => {
    it("has nothing to do where there is no directory", () => {
      assert.equal(stateDirToRemove(path.join(tmp.dir, "none")), false);
    });

    it("refuses a directory without the marker, a file, and a marker that names another directory", () => {
      assert.throws(() => stateDirToRemove(tmp.dir), /refusing to touch .* has no/);
      fs.writeFileSync(path.join(tmp.dir, "file"), "");
      assert.throws(() => stateDirToRemove(path.join(tmp.dir, "file")), /not a directory/);
      const a = path.join(tmp.dir, "a");
      claimStateDir(a);
      const b = path.join(tmp.dir, "b");
      fs.mkdirSync(b);
      fs.copyFileSync(path.join(a, MARKER), path.join(b, MARKER));
      assert.throws(() => stateDirToRemove(b), /names .*\/a", not .*\/b/);
    });

    it("refuses a marker that is a symlink", () => {
      const a = path.join(tmp.dir, "a");
      claimStateDir(a);
      const b = path.join(tmp.dir, "b");
      fs.mkdirSync(b);
      fs.symlinkSync(path.join(a, MARKER), path.join(b, MARKER));
      assert.throws(() => stateDirToRemove(b), /not a regular file/);
    });
  });
});

describe("platform: the command line with a bad ADF_PLATFORM_STATE", () => {
  it("stops at the setting, with its message, before any module of the platform does anything", async () => {
    const { spawnSync } = await import("node:child_process");
    // Only state.ts is loaded: what `down` would read first. (Running `down` itself with a broken check could harm the host.)
    const result = spawnSync(process.execPath, ["--import", "tsx", "-e", 'await import("./platform/state.ts")'], { env: { ...process.env, ADF_PLATFORM_STATE: "" }, encoding: "utf8", cwd: path.resolve(import.meta.dirname, "..") });
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /ADF_PLATFORM_STATE is set but empty/);
  });
});
