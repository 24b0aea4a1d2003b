import { once } from "node:events";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";

import { HOST, sampleRss, spawnApi, waitFor200 } from "./processes.js";

export interface WebhookOptions {
  calls: number;
  concurrency: number;
  path: string;
  /** How long to wait for the last callback after the last 202. */
  settleTimeoutMs: number;
  apiNodeArgs: string[];
}

export interface WebhookResult {
  calls: number;
  concurrency: number;
  accepted: number;
  /** Answers other than 202, by status (0 = connection error). */
  refused: Record<string, number>;
  acceptP50Ms: number;
  acceptP99Ms: number;
  /** From the first call sent to the last 202 received. */
  allAcceptedMs: number;
  /** From the first call sent to the last callback received. */
  lastCallbackMs: number;
  /** Distinct accepted calls whose callback arrived (the target: all of them). */
  delivered: number;
  duplicates: number;
  /** Callbacks whose body was not `{"Output":{...},"StatusCode":"200"}`, or for a call never accepted. */
  unexpected: number;
  giveUps: number;
  peakRssMb: number;
}

export const percentile = (values: readonly number[], p: number): number => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

/** A callback receiver on 127.0.0.1 standing in for ADF: counts each /cb/<i> it is called on. */
async function startReceiver() {
  const seen = new Map<number, number>();
  let unexpected = 0;
  let lastAt = 0;
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      lastAt = performance.now();
      const index = Number(/^\/cb\/(\d+)$/.exec(req.url ?? "")?.[1] ?? NaN);
      let ok = false;
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { Output?: unknown; StatusCode?: unknown };
        ok = body.StatusCode === "200" && typeof body.Output === "object" && body.Output !== null;
      } catch {
        ok = false;
      }
      if (!ok || !Number.isInteger(index)) unexpected++;
      if (Number.isInteger(index)) seen.set(index, (seen.get(index) ?? 0) + 1);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      for (const wake of waiters) wake();
    });
  });
  server.keepAliveTimeout = 75_000;
  server.listen(0, HOST);
  await once(server, "listening");
  return {
    base: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    seen,
    get unexpected() {
      return unexpected;
    },
    get lastAt() {
      return lastAt;
    },
    /** Resolves when `done()` holds or at `deadline` (performance.now() time). */
    async until(done: () => boolean, deadline: number): Promise<void> {
      while (!done() && performance.now() < deadline) {
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, 100);
          waiters.add(wake);
        });
      }
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function post(agent: Agent, url: string, body: string): Promise<{ status: number; ms: number }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(url, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } });
    req.once("response", (res) => {
      res.resume();
      res.once("end", () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      res.once("error", () => resolve({ status: 0, ms: performance.now() - started }));
    });
    req.once("error", () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

async function scrapeGiveUps(url: string): Promise<number> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    let total = 0;
    for (const match of text.matchAll(/^callback_give_ups_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/gm)) total += Number(match[1]);
    return total;
  } catch {
    return NaN;
  }
}

/** `calls` webhook calls, `concurrency` at a time, against the built API and a local receiver. */
export async function runWebhooks(options: WebhookOptions): Promise<WebhookResult> {
  const receiver = await startReceiver();
  const api = await spawnApi(
    // The burst is the measure, not the limits: every call gets a slot and its callback a place (the
    // receiver shares the load generator's process, so callbacks wait on it; with the default
    // MAX_PENDING_CALLBACKS, 1000, a third of a 2000-call burst was refused up front, as designed).
    { CALLBACK_ALLOW_INSECURE: "true", MAX_CONCURRENT_JOBS: String(Math.max(options.calls, 100)), MAX_PENDING_CALLBACKS: String(Math.max(options.calls, 1000)) },
    options.apiNodeArgs,
  );
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  try {
    await waitFor200(`${api.url}/readyz`, api);
    const rss = sampleRss(api.child.pid!);
    const latencies: number[] = [];
    const refused: Record<string, number> = {};
    const accepted = new Set<number>();
    let next = 0;
    let lastAcceptedAt = 0;
    const started = performance.now();
    const worker = async () => {
      while (next < options.calls) {
        const index = next++;
        const body = JSON.stringify({ callBackUri: `${receiver.base}/cb/${index}` });
        const { status, ms } = await post(agent, `${api.url}${options.path}`, body);
        if (status === 202) {
          accepted.add(index);
          latencies.push(ms);
          lastAcceptedAt = performance.now();
        } else {
          refused[status] = (refused[status] ?? 0) + 1;
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const allDelivered = () => [...accepted].every((index) => receiver.seen.has(index));
    await receiver.until(allDelivered, performance.now() + options.settleTimeoutMs);
    // A little longer, so a late duplicate would still be counted.
    await new Promise((resolve) => setTimeout(resolve, 250));
    const peakRssMb = rss.stop();

    let delivered = 0;
    let duplicates = 0;
    let unexpected = receiver.unexpected;
    for (const [index, count] of receiver.seen) {
      if (!accepted.has(index)) unexpected++;
      else delivered++;
      duplicates += count - 1;
    }
    return {
      calls: options.calls,
      concurrency: options.concurrency,
      accepted: accepted.size,
      refused,
      acceptP50Ms: percentile(latencies, 50),
      acceptP99Ms: percentile(latencies, 99),
      allAcceptedMs: lastAcceptedAt - started,
      lastCallbackMs: receiver.lastAt - started,
      delivered,
      duplicates,
      unexpected,
      giveUps: await scrapeGiveUps(api.url),
      peakRssMb,
    };
  } finally {
    agent.destroy();
    await api.stop();
    await receiver.close();
  }
}
