import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import { startApi, type RunningApi } from "../testing/api.js";

/**
 * Callback receivers that misbehave, many jobs at once: each callback is acknowledged exactly once
 * (never twice), and a give-up is logged with the job's id and counted in /metrics.
 */

const FAST = { CALLBACK_ALLOW_INSECURE: "true", CALLBACK_RETRY_BASE_MS: "10", CALLBACK_TIMEOUT_MS: "300", MAX_CONCURRENT_JOBS: "500", LOG_LEVEL: "info" };

/** How the receiver answers the n-th attempt at one callback path. */
type Step = number | "hang" | "destroy" | "close-mid-response" | "slow-ack";

interface FlakyReceiver {
  base: string;
  port: number;
  /** Acknowledged (2xx sent) callbacks per path. */
  acks: Map<string, number>;
  /** Attempts per path. */
  attempts: Map<string, number>;
  waitForAcks(paths: string[], timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** A receiver on 127.0.0.1 (on `port` if given) answering each path's attempts by `script` (then 200). */
async function flakyReceiver(script: Step[], port = 0): Promise<FlakyReceiver> {
  const acks = new Map<string, number>();
  const attempts = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "";
    req.resume();
    req.on("end", () => {
      const n = attempts.get(path) ?? 0;
      attempts.set(path, n + 1);
      const step = script[n] ?? 200;
      const ack = () => acks.set(path, (acks.get(path) ?? 0) + 1);
      if (step === "hang") return;
      if (step === "destroy") return void req.socket.destroy();
      if (step === "close-mid-response") {
        // The status line says 200: the callback is delivered, even though the body never completes.
        ack();
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
        res.write('{"partial":');
        return void setTimeout(() => req.socket.destroy(), 10);
      }
      if (step === "slow-ack") {
        // Answers 200, but only after the sender's timeout: not an acknowledgement the sender saw.
        return void setTimeout(() => {
          if (!res.destroyed && !req.socket.destroyed) {
            ack();
            res.writeHead(200).end("{}");
          }
        }, 600);
      }
      if (step >= 200 && step < 300) ack();
      res.writeHead(step, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(port, "127.0.0.1");
  await once(server, "listening");
  const bound = (server.address() as AddressInfo).port;
  return {
    base: `http://127.0.0.1:${bound}`,
    port: bound,
    acks,
    attempts,
    async waitForAcks(paths, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!paths.every((path) => acks.has(path))) {
        const missing = paths.filter((path) => !acks.has(path));
        if (Date.now() > deadline) throw new Error(`${missing.length} callbacks not acknowledged after ${timeoutMs} ms, e.g. ${missing[0]} (attempts ${attempts.get(missing[0]!) ?? 0})`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    close() {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

async function postJson(url: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function metric(api: RunningApi, name: string, labels = ""): Promise<number> {
  const text = await (await fetch(`${api.metricsUrl}/metrics`)).text();
  const escaped = `${name}${labels}`.replace(/[{}()[\]."+*?^$|\\]/g, "\\$&");
  return Number(new RegExp(`^${escaped} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
}

/** Starts `count` webhook jobs calling back `${base}/cb/<tag>-<i>`; returns their callback paths. */
async function startJobs(api: RunningApi, base: string, tag: string, count: number): Promise<string[]> {
  const paths = Array.from({ length: count }, (_, i) => `/cb/${tag}-${i}`);
  const answers = await Promise.all(paths.map((path) => postJson(`${api.url}/helloworld`, { callBackUri: `${base}${path}` })));
  answers.forEach((answer) => assert.equal(answer.status, 202, JSON.stringify(answer.body)));
  return paths;
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("reliability: callback faults, many jobs at once", function () {
  this.timeout(20_000);
  let api: RunningApi;
  before(async () => {
    api = await startApi({ ...FAST, CALLBACK_MAX_ATTEMPTS: "8" });
  });
  after(() => api.close());

  it("503, a dropped connection and a hang beyond CALLBACK_TIMEOUT_MS, then 200: each delivered exactly once", async () => {
    const receiver = await flakyReceiver([503, "destroy", "hang", 200]);
    try {
      const retriesBefore = await metric(api, "callback_retries_total");
      const paths = await startJobs(api, receiver.base, "flaky", 40);
      await receiver.waitForAcks(paths, 10_000);
      await settle(300); // a late duplicate would show up by now
      for (const path of paths) {
        assert.equal(receiver.acks.get(path), 1, `${path} acknowledged once`);
        assert.equal(receiver.attempts.get(path), 4, `${path} took four attempts`);
      }
      assert.equal((await metric(api, "callback_retries_total")) - retriesBefore, 3 * paths.length);
    } finally {
      await receiver.close();
    }
  });

  it("a connection closed mid-response after a 200 status line counts as delivered: never sent twice", async () => {
    const receiver = await flakyReceiver(["close-mid-response"]);
    try {
      const paths = await startJobs(api, receiver.base, "midway", 20);
      await receiver.waitForAcks(paths, 5_000);
      await settle(500);
      for (const path of paths) {
        assert.equal(receiver.attempts.get(path), 1, `${path}: no retry after a 200`);
        assert.equal(receiver.acks.get(path), 1);
      }
    } finally {
      await receiver.close();
    }
  });

  it("a receiver that answers 200 only after CALLBACK_TIMEOUT_MS is retried until one answer arrives in time", async () => {
    const receiver = await flakyReceiver(["slow-ack", 200]);
    try {
      const paths = await startJobs(api, receiver.base, "slow", 10);
      await receiver.waitForAcks(paths, 5_000);
      await settle(800); // the slow answers would have come by now: the sender cut those requests
      for (const path of paths) {
        assert.equal(receiver.attempts.get(path), 2, path);
        // The first, timed-out request was aborted before its late 200, so only the retry acknowledged.
        assert.equal(receiver.acks.get(path), 1, `${path} acknowledged once`);
      }
    } finally {
      await receiver.close();
    }
  });

  it("a receiver that refuses connections at first is called once it listens", async () => {
    // Take a free port, release it, and only listen on it a little after the jobs start.
    const probe = await flakyReceiver([]);
    const { port } = probe;
    await probe.close();
    const paths = await startJobs(api, `http://127.0.0.1:${port}`, "refused", 10);
    await settle(50);
    const receiver = await flakyReceiver([], port);
    try {
      await receiver.waitForAcks(paths, 10_000);
      await settle(200);
      for (const path of paths) assert.equal(receiver.acks.get(path), 1, path);
    } finally {
      await receiver.close();
    }
  });
});

describe("reliability: callback give-ups are logged and counted", function () {
  this.timeout(20_000);
  let api: RunningApi;
  before(async () => {
    api = await startApi({ ...FAST, CALLBACK_MAX_ATTEMPTS: "3" });
  });
  after(() => api.close());

  const giveUpLines = () => api.logs.filter((line) => String(line.msg).startsWith("callback given up"));

  it("a receiver down for good, or always 503: exhausted after CALLBACK_MAX_ATTEMPTS, logged with the job id, counted", async () => {
    const down = await flakyReceiver([]);
    const downBase = down.base;
    await down.close();
    const failing = await flakyReceiver([503, 503, 503, 503]);
    try {
      const before = await metric(api, "callback_give_ups_total", '{reason="exhausted"}');
      const receipts = await Promise.all([
        postJson(`${api.url}/helloworld`, { callBackUri: `${downBase}/cb/down?sig=s3cret` }),
        postJson(`${api.url}/helloworld`, { callBackUri: `${failing.base}/cb/503?sig=s3cret` }),
      ]);
      const jobIds = receipts.map((receipt) => receipt.body.jobId as string);
      const deadline = Date.now() + 5_000;
      while (giveUpLines().filter((line) => jobIds.includes(line.jobId as string)).length < 2) {
        assert.ok(Date.now() < deadline, "both give-ups logged");
        await settle(20);
      }
      assert.equal((await metric(api, "callback_give_ups_total", '{reason="exhausted"}')) - before, 2);
      assert.equal(failing.attempts.get("/cb/503?sig=s3cret"), 3, "exactly CALLBACK_MAX_ATTEMPTS attempts");
      assert.equal(failing.acks.size, 0);
      for (const line of giveUpLines()) assert.equal(line.level, "error");
      assert.ok(!JSON.stringify(api.logs).includes("s3cret"), "the callBackUri's secret never reaches the log");
    } finally {
      await failing.close();
    }
  });

  it("a 4xx answer is not retried: one attempt, a give-up counted as rejected", async () => {
    const receiver = await flakyReceiver([404]);
    try {
      const before = await metric(api, "callback_give_ups_total", '{reason="rejected"}');
      const receipt = await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb/gone` });
      assert.equal(receipt.status, 202);
      const deadline = Date.now() + 5_000;
      while (!giveUpLines().some((line) => line.jobId === receipt.body.jobId)) {
        assert.ok(Date.now() < deadline, "the give-up is logged");
        await settle(20);
      }
      await settle(100);
      assert.equal(receiver.attempts.get("/cb/gone"), 1);
      assert.equal((await metric(api, "callback_give_ups_total", '{reason="rejected"}')) - before, 1);
    } finally {
      await receiver.close();
    }
  });
});
