import assert from "node:assert/strict";

import { runApiProcess, startApiProcess } from "./testing/process.js";
import { postJson } from "./testing/receiver.js";

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
    // A keep-alive connection left idle must not hold the shutdown up.
    await fetch(`${api.url}/helloworld`, { keepalive: true });
    const inFlight = postJson(`${api.url}/simulate`, { durationMs: 800, output: { finished: true } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const signalledAt = Date.now();
    api.child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const readiness = await fetch(`${api.url}/readyz`).catch(() => undefined);
    // The listener may already be closed; if the probe gets through it must say draining.
    if (readiness) assert.equal(readiness.status, 503);

    const answer = await inFlight;
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { finished: true });
    const exit = await api.exited;
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - signalledAt < 10_000);
    assert.ok(api.lines.some((line) => line.includes('"msg":"drained"')));
  });
});
