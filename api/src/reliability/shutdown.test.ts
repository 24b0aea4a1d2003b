import assert from "node:assert/strict";

import { startApiProcess } from "../testing/process.js";
import { metric } from "../testing/metrics.js";
import { postJson, startSlowReceiver } from "../testing/receiver.js";
import { heldUpload } from "../testing/uploads.js";

/**
 * Issue 20, at SIGTERM: accepted jobs lost their callback when the receiver was slow (1 s per callback,
 * 300 jobs: 168 never got one), because the fixed 5 s wrap-up was shorter than one callback timeout; and
 * one slowly uploading client made every shutdown unclean (exit 1 after the whole drain timeout). Now the
 * wrap-up comes after DRAIN_TIMEOUT_MS and is sized from the callback settings and the most work a pod
 * holds (wrapUpMs in callbacks/policy.ts), and uploads still in flight are cut at the drain.
 */

describe("reliability: shutdown with a slow callback receiver and slow uploads", function () {
  this.timeout(60_000);

  it("every job running at SIGTERM gets exactly one callback (InstanceShuttingDown) from a slow receiver, exit 0", async () => {
    const JOBS = 150;
    // 300 ms per callback, 64 at a time: about 1 s for all of them, twice the drain timeout.
    const receiver = await startSlowReceiver(300);
    const api = await startApiProcess({
      CALLBACK_ALLOW_INSECURE: "true",
      DRAIN_TIMEOUT_MS: "500",
      CALLBACK_TIMEOUT_MS: "3000",
      MAX_CONCURRENT_JOBS: "200",
      MAX_QUEUED_JOBS: "0",
      MAX_PENDING_CALLBACKS: "200",
    });
    try {
      const paths = Array.from({ length: JOBS }, (_, i) => `/cb/${i}`);
      for (const receipt of await Promise.all(paths.map((path) => postJson(`${api.url}/simulate`, { durationMs: 600_000, callBackUri: `${receiver.base}${path}` })))) {
        assert.equal(receipt.status, 202, JSON.stringify(receipt.body));
      }
      while ((await metric(api, "jobs_running")) < JOBS) await new Promise((resolve) => setTimeout(resolve, 10));
      api.child.kill("SIGTERM");
      const { code } = await api.exited;
      const lost = paths.filter((path) => !receiver.acks.has(path));
      assert.deepEqual(lost.length, 0, `${lost.length} of ${JOBS} jobs never got their callback, e.g. ${lost[0]}`);
      for (const path of paths) {
        const callbacks = receiver.acks.get(path)!;
        assert.equal(callbacks.length, 1, `${path} called back once`);
        assert.equal(callbacks[0]!.StatusCode, "503");
        assert.equal((callbacks[0]!.Error as { ErrorCode: string }).ErrorCode, "InstanceShuttingDown");
      }
      assert.equal(code, 0, `exit code; last lines:\n${api.lines.slice(-3).join("\n")}`);
    } finally {
      api.child.kill("SIGKILL");
      await receiver.close();
    }
  });

  it("a request still uploading at SIGTERM is cut, so the drain ends clean (exit 0) long before the request timeout", async () => {
    const api = await startApiProcess({ DRAIN_TIMEOUT_MS: "2000", CALLBACK_TIMEOUT_MS: "1000", MAX_CONCURRENT_JOBS: "1", MAX_QUEUED_JOBS: "0", MAX_PENDING_CALLBACKS: "1" });
    const upload = await heldUpload(Number(new URL(api.url).port), "/simulate", JSON.stringify({ output: { data: "x".repeat(10_000) } }));
    try {
      assert.match(upload.received(), /^HTTP\/1\.1 100 Continue/, "the upload is being read");
      api.child.kill("SIGTERM");
      const { code } = await api.exited;
      await upload.closed;
      assert.equal(code, 0, `exit code; last lines:\n${api.lines.slice(-3).join("\n")}`);
      assert.ok(api.lines.some((line) => line.includes('"msg":"draining: requests still uploading were cut"')));
    } finally {
      upload.socket.destroy();
      api.child.kill("SIGKILL");
    }
  });
});
