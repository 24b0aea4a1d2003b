import assert from "node:assert/strict";
import { Agent } from "node:http";

import { tracedCall as call, type CallOutcome as Outcome } from "../testing/http.js";
import { jobsStarted } from "../testing/metrics.js";
import { startApiProcess } from "../testing/process.js";
import { startReceiver } from "../testing/receiver.js";

/**
 * SIGTERM while requests and webhook jobs are in flight: every request the server had accepted is
 * answered, every accepted job is called back, and the process exits 0 within DRAIN_TIMEOUT_MS.
 */

const DRAIN_TIMEOUT_MS = 5_000;

/** Connection-level failures: the request never reached the API (refused, or reset before it was read). */
const NEVER_REACHED = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE"]);

describe("reliability: drain under load", function () {
  this.timeout(30_000);

  it("SIGTERM with requests and jobs in flight: all answered, all called back, exit 0 in time", async () => {
    const cleanups: Array<() => void> = [];
    const receiver = await startReceiver();
    const api = await startApiProcess({
      CALLBACK_ALLOW_INSECURE: "true",
      MAX_CONCURRENT_JOBS: "1000",
      DRAIN_TIMEOUT_MS: String(DRAIN_TIMEOUT_MS),
      LOG_LEVEL: "info",
    });
    try {
      // In flight at SIGTERM: webhook jobs of various lengths and slow synchronous (Web activity) jobs.
      // The longest outlast every connection (the last closes after the 1 s idle grace): the process
      // must still wait for them and their callbacks.
      const webhooks = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          call(api.url, "POST", "/simulate", { durationMs: i % 6 === 5 ? 2_500 : 300 + (i % 6) * 150, callBackUri: `${receiver.base}/cb/before-${i}` }),
        ),
      );
      for (const outcome of webhooks) assert.ok(outcome.kind === "answered" && outcome.status === 202, JSON.stringify(outcome));
      const synchronous = Array.from({ length: 20 }, () => call(api.url, "POST", "/simulate", { durationMs: 700 }));
      // SIGTERM only once the API has started all 80 jobs (an event, not a guess at how long that
      // takes), so every one of them was surely accepted. On a busy machine some may have ended already.
      while ((await jobsStarted(api.metricsUrl)) < 80) await new Promise((resolve) => setTimeout(resolve, 10));

      // Keep-alive connections the API has accepted, idle at SIGTERM, whose next request arrives just
      // after it: the API gives idle connections a grace period for that, and must answer them (a server
      // that closed idle connections at SIGTERM would reset them).
      const agents = Array.from({ length: 10 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
      cleanups.push(() => agents.forEach((agent) => agent.destroy()));
      for (const outcome of await Promise.all(agents.map((agent) => call(api.url, "GET", "/helloworld", undefined, agent)))) {
        assert.ok(outcome.kind === "answered" && outcome.status === 200, JSON.stringify(outcome));
      }
      // One more stays idle: it holds the drain open for the API's grace period (1 s), so the calls
      // during the drain below meet a closed listener in a process that has not exited yet.
      const idle = new Agent({ keepAlive: true, maxSockets: 1 });
      cleanups.push(() => idle.destroy());
      assert.equal((await call(api.url, "GET", "/helloworld", undefined, idle)).kind, "answered");

      // And requests on new connections, on their way when SIGTERM arrives: sent, maybe not yet read.
      const flushed: Array<Promise<unknown>> = [];
      const onNewConnections = [
        ...Array.from({ length: 20 }, () => call(api.url, "GET", "/helloworld", undefined, false, (f) => flushed.push(f))),
        ...Array.from({ length: 10 }, () => call(api.url, "POST", "/simulate", { durationMs: 200 }, false, (f) => flushed.push(f))),
      ];
      await Promise.all(flushed);

      const signalledAt = Date.now();
      api.child.kill("SIGTERM");
      // Once the API has begun draining (its log says so), the keep-alive connections' next requests.
      while (!api.lines.some((line) => line.includes('"msg":"draining"'))) await new Promise((resolve) => setTimeout(resolve, 1));
      const onKeptAlive = agents.map((agent) => call(api.url, "GET", "/helloworld", undefined, agent));
      // Keep calling during the drain, until the door is seen closed (a refused connection) or the
      // process exits: each call is refused at the door, or answered properly.
      const during: Array<Promise<Outcome>> = [];
      const callbackPathOf = new Map<string, string>();
      let exited = false;
      void api.exited.then(() => (exited = true));
      let doorClosed = false;
      const caller = (async () => {
        for (let i = 0; !exited && !doorClosed; i++) {
          const webhook = call(api.url, "POST", "/helloworld", { callBackUri: `${receiver.base}/cb/during-${i}` });
          during.push(webhook);
          void webhook.then((o) => callbackPathOf.set(o.id, `/cb/during-${i}`));
          const plain = call(api.url, "GET", "/helloworld");
          during.push(plain);
          if ([await webhook, await plain].some((o) => o.kind === "error" && o.code === "ECONNREFUSED")) doorClosed = true;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      })();

      const { code } = await api.exited;
      const exitedAfterMs = Date.now() - signalledAt;
      await caller;
      assert.equal(code, 0, `exit code; last lines:\n${api.lines.slice(-5).join("\n")}`);
      assert.ok(exitedAfterMs < DRAIN_TIMEOUT_MS + 1_000, `exited ${exitedAfterMs} ms after SIGTERM`);

      // The requests the API handled, by the request ids its log lines carry.
      const handled = new Set(
        api.lines.flatMap((line) => {
          const entry = JSON.parse(line) as { msg?: string; reqId?: string };
          return entry.msg === "request" && entry.reqId ? [entry.reqId] : [];
        }),
      );

      for (const outcome of await Promise.all(synchronous)) {
        assert.ok(outcome.kind === "answered", `a Web activity call in flight at SIGTERM failed: ${JSON.stringify(outcome)}`);
        assert.equal(outcome.status, 200, outcome.body);
      }

      // On a connection the API had accepted, a request on its way at SIGTERM is answered, always.
      for (const outcome of await Promise.all(onKeptAlive)) {
        assert.ok(outcome.kind === "answered", `a request on an accepted connection at SIGTERM failed: ${JSON.stringify(outcome)}`);
        assert.equal(outcome.status, 200, outcome.body);
      }
      // A new connection still in the kernel's accept queue when the listener closes is reset by the
      // kernel: the API never read it (a client may retry it safely), and it fails at the connection
      // level. Any request the API read must be answered.
      for (const outcome of await Promise.all(onNewConnections)) {
        if (outcome.kind === "error") {
          assert.ok(!handled.has(outcome.id), `${outcome.id} was handled but the client got ${outcome.code}`);
          assert.ok(NEVER_REACHED.has(outcome.code), `a request on its way at SIGTERM failed: ${JSON.stringify(outcome)}`);
          continue;
        }
        assert.equal(outcome.status, 200, outcome.body);
      }

      const after = await Promise.all(during);
      let refusedAtTheDoor = 0;
      for (const outcome of after) {
        if (outcome.kind === "answered") {
          assert.ok([200, 202, 503].includes(outcome.status), `status ${outcome.status}: ${outcome.body}`);
          if (outcome.status === 503) assert.match(outcome.body, /"draining"|"busy"/);
        } else {
          // Never handled by the API (connection refused, or reset before its request was read): fine.
          // Handled but the answer lost: an accepted request that failed.
          assert.ok(!handled.has(outcome.id), `${outcome.id} was handled but the client got ${outcome.code}`);
          assert.ok(NEVER_REACHED.has(outcome.code), JSON.stringify(outcome));
          if (outcome.code === "ECONNREFUSED") refusedAtTheDoor++;
        }
      }

      // Every 202 (before and during the drain) was called back, once, before the process exited.
      const acceptedPaths = [
        ...Array.from({ length: 60 }, (_, i) => `/cb/before-${i}`),
        ...after.flatMap((o) => (o.kind === "answered" && o.status === 202 ? [callbackPathOf.get(o.id)!] : [])),
      ];
      const deliveredPaths = receiver.delivered.map((d) => d.path);
      for (const path of acceptedPaths) assert.equal(deliveredPaths.filter((p) => p === path).length, 1, `${path} called back once`);
      assert.equal(deliveredPaths.length, acceptedPaths.length, "no callback for a call that was not accepted");
      // The listener closed at SIGTERM, while the process was still draining: new connections refused.
      assert.ok(refusedAtTheDoor > 0, `no call was refused during the drain (${after.length} calls)`);
    } finally {
      if (api.child.exitCode === null) api.child.kill("SIGKILL");
      cleanups.splice(0).forEach((cleanup) => cleanup());
      await receiver.close();
    }
  });
});
