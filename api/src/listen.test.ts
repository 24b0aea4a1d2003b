import assert from "node:assert/strict";
import { Agent } from "node:http";

import { statusOn as status } from "./testing/http.js";
import { runApiProcess, startApiProcess } from "./testing/process.js";
import { postJson, startReceiver } from "./testing/receiver.js";

describe("the process (listen.ts)", function () {
  this.timeout(30_000);

  it("stops start-up on a bad setting with one clear line and exit 1", async () => {
    const { code, stdout, stderr } = await runApiProcess({ PORT: "http" });
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.equal(stderr.trim().split("\n").length, 1);
    assert.match(stderr, /^invalid configuration: PORT must be a whole number/);
  });

  it("stops start-up when the port is taken, with one clear line", async () => {
    const first = await startApiProcess();
    try {
      const port = new URL(first.url).port;
      const { code, stderr } = await runApiProcess({ PORT: port, LOG_LEVEL: "info" });
      assert.equal(code, 1);
      assert.match(stderr, /^cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE\n$/);
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
    }
  });

  it("serves /metrics on METRICS_PORT only; the job port answers 404 there", async () => {
    const api = await startApiProcess();
    try {
      assert.notEqual(new URL(api.metricsUrl).port, new URL(api.url).port);
      const scrape = await fetch(`${api.metricsUrl}/metrics`);
      assert.equal(scrape.status, 200);
      assert.match(await scrape.text(), /process_resident_memory_bytes/);
      assert.equal((await fetch(`${api.url}/metrics`)).status, 404);
      assert.equal((await fetch(`${api.url}/helloworld`)).status, 200);
    } finally {
      api.child.kill("SIGTERM");
      await api.exited;
    }
  });

  it("stops start-up when the metrics port is taken, with one clear line", async () => {
    const first = await startApiProcess();
    try {
      const { code, stderr } = await runApiProcess({ METRICS_PORT: new URL(first.metricsUrl).port, LOG_LEVEL: "info" });
      assert.equal(code, 1);
      assert.match(stderr, /^cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE\n$/);
    } finally {
      first.child.kill("SIGTERM");
      await first.exited;
    }
  });

  it("accepts the original -p flag", async () => {
    const api = await startApiProcess({}, ["-p", "0"]);
    assert.equal((await fetch(`${api.url}/helloworld`)).status, 200);
    api.child.kill("SIGINT");
    assert.deepEqual(await api.exited, { code: 0, signal: null });
  });

  it("drains on SIGTERM: readiness 503 at once, the request in flight completes, exit 0", async () => {
    const api = await startApiProcess({ DRAIN_TIMEOUT_MS: "10000" });
    // A keep-alive connection, idle at SIGTERM: it must not hold the shutdown up, and a probe sent on it
    // during the drain is answered (the idle grace), with 503.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.equal(await status(`${api.url}/helloworld`, agent), 200);
      const inFlight = postJson(`${api.url}/simulate`, { durationMs: 2_000, output: { finished: true } });
      // SIGTERM once the job runs (the API's metrics say so), however long the request took to get there.
      while (!/^jobs_running 1$/m.test(await (await fetch(`${api.metricsUrl}/metrics`)).text())) await new Promise((resolve) => setTimeout(resolve, 10));
      const signalledAt = Date.now();
      api.child.kill("SIGTERM");
      while (!api.lines.some((line) => line.includes('"msg":"draining"'))) await new Promise((resolve) => setTimeout(resolve, 1));
      assert.equal(await status(`${api.url}/readyz`, agent), 503);

      const answer = await inFlight;
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.body, { finished: true });
      const exit = await api.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - signalledAt < 10_000);
      assert.ok(api.lines.some((line) => line.includes('"msg":"drained"')));
    } finally {
      agent.destroy();
      api.child.kill("SIGKILL");
    }
  });

  it("a second SIGTERM and a SIGINT during the drain are logged once and ignored: the job is still called back, exit 0", async () => {
    const receiver = await startReceiver();
    const api = await startApiProcess({ CALLBACK_ALLOW_INSECURE: "true", DRAIN_TIMEOUT_MS: "10000" });
    try {
      const receipt = await postJson(`${api.url}/simulate`, { durationMs: 1_500, callBackUri: `${receiver.base}/cb/once` });
      assert.equal(receipt.status, 202);
      api.child.kill("SIGTERM");
      while (!api.lines.some((line) => line.includes('"msg":"draining"'))) await new Promise((resolve) => setTimeout(resolve, 1));
      api.child.kill("SIGTERM");
      api.child.kill("SIGINT");
      assert.deepEqual(await api.exited, { code: 0, signal: null });
      assert.deepEqual(
        receiver.delivered.map((callback) => callback.path),
        ["/cb/once"],
        "the job's callback arrived, once",
      );
      assert.equal(api.lines.filter((line) => line.includes('"msg":"already draining: ignored, the drain goes on"')).length, 1);
      assert.ok(api.lines.some((line) => line.includes('"msg":"drained"')));
    } finally {
      api.child.kill("SIGKILL");
      await receiver.close();
    }
  });
});
