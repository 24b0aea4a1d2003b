import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { ensurePulumiBackend } from "./pulumi-backend.js";

describe("platform: the Pulumi backend", () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "platform-backend-"))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("is a file:// backend in the state directory, made at the first up", () => {
    const backend = ensurePulumiBackend(path.join(dir, "pulumi-backend"), path.join(dir, "pulumi-passphrase"));
    assert.equal(backend.backendUrl, `file://${dir}/pulumi-backend`);
    assert.ok(fs.statSync(path.join(dir, "pulumi-backend")).isDirectory());
  });

  it("has a random passphrase, kept in a file only its owner reads, and the same one at every up", () => {
    const file = path.join(dir, "pulumi-passphrase");
    const first = ensurePulumiBackend(path.join(dir, "pulumi-backend"), file);
    assert.match(first.passphrase, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(ensurePulumiBackend(path.join(dir, "pulumi-backend"), file).passphrase, first.passphrase);
  });

  it("differs between platforms", () => {
    const a = ensurePulumiBackend(path.join(dir, "a"), path.join(dir, "a-passphrase"));
    const b = ensurePulumiBackend(path.join(dir, "b"), path.join(dir, "b-passphrase"));
    assert.notEqual(a.passphrase, b.passphrase);
  });
});
