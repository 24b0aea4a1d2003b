import * as assert from "node:assert/strict";

import { startParts, stopParts, type Part } from "./parts.js";

/** Parts that record what is done to them; `failing` fail to start or to stop. */
function parts(names: string[], failing: { start?: string; stop?: string[] } = {}): { parts: Part[]; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    parts: names.map((name) => ({
      name,
      start: async () => {
        calls.push(`start ${name}`);
        if (failing.start === name) throw new Error(`${name} would not start`);
      },
      stop: async () => {
        calls.push(`stop ${name}`);
        if (failing.stop?.includes(name)) throw new Error(`${name} would not stop`);
      },
    })),
  };
}

describe("platform: the parts", () => {
  const quiet = () => undefined;

  it("start in order", async () => {
    const p = parts(["state", "etcd", "kubelet"]);
    await startParts(p.parts, quiet);
    assert.deepEqual(p.calls, ["start state", "start etcd", "start kubelet"]);
  });

  it("a part that fails to start stops the up, and everything is stopped in the reverse order (nothing left running)", async () => {
    const p = parts(["state", "etcd", "apiserver", "kubelet"], { start: "apiserver" });
    await assert.rejects(startParts(p.parts, quiet), /up failed at apiserver: apiserver would not start\n\(everything it did is undone\)/);
    assert.deepEqual(p.calls, ["start state", "start etcd", "start apiserver", "stop kubelet", "stop apiserver", "stop etcd", "stop state"]);
  });

  it("down tries every step even when one fails, and reports what it could not undo", async () => {
    const p = parts(["state", "bridge", "etcd", "kubelet"], { stop: ["kubelet", "bridge"] });
    const failures = await stopParts(p.parts, quiet);
    assert.deepEqual(p.calls, ["stop kubelet", "stop etcd", "stop bridge", "stop state"]);
    assert.deepEqual(failures, [
      { part: "kubelet", error: "kubelet would not stop" },
      { part: "bridge", error: "bridge would not stop" },
    ]);
  });

  it("a failed up that joined a platform an earlier up started stops nothing of it, and says so", async () => {
    const p = parts(["state", "etcd", "apiserver", "kubelet"], { start: "apiserver" });
    await assert.rejects(startParts(p.parts, quiet, "keep"), /up failed at apiserver: apiserver would not start\n\(the platform an earlier up started is left as it is, with its stacks/);
    assert.deepEqual(p.calls, ["start state", "start etcd", "start apiserver"]);
  });

  it("a failed up says what it could not undo", async () => {
    const p = parts(["state", "bridge", "etcd"], { start: "etcd", stop: ["bridge"] });
    await assert.rejects(startParts(p.parts, quiet), /up failed at etcd: etcd would not start\nand could not undo:\n- bridge: bridge would not stop/);
  });
});
