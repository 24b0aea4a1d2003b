/**
 * Reproductions of issue 25's attacks on the API, on 127.0.0.1, against the built API (or another build:
 * BENCH_API_ENTRY=/path/to/listen.js, to measure the code before a fix). Not part of `npm run bench`:
 *
 *   npx tsx bench/attacks.ts pipelining [--path /healthz] [--seconds 10] [--connections 10]
 *   npx tsx bench/attacks.ts callbacks [--calls 1500]
 *
 * - pipelining: connections that pipeline GETs and never read an answer; the API's RSS at start, its
 *   peak (VmHWM) and 10 s after the clients left, and whether it still answers.
 * - callbacks: a flood of Webhook calls whose callbacks go to a receiver that accepts and never answers,
 *   then to a host that can never resolve (longer than 253 characters); meanwhile 100 calls for a
 *   well-behaved receiver: how many were accepted, and called back.
 * Every loop is bounded by a count or a duration.
 */
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";

import { pipelinedGet, pipelineFlood } from "../api/src/testing/pipelining.js";
import { HOST, memoryOf, spawnApi, waitFor200, type Child } from "./processes.js";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    path: { type: "string", default: "/healthz" },
    seconds: { type: "string", default: "10" },
    connections: { type: "string", default: "10" },
    calls: { type: "string", default: "1500" },
  },
});

const round = (value: number | undefined) => Math.round(value ?? NaN);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function pipelining(api: Child): Promise<void> {
  const pid = api.child.pid!;
  await pause(1_000);
  const before = memoryOf(pid);
  const flood = await pipelineFlood(api.port, pipelinedGet(values.path), { connections: Number(values.connections), durationMs: Number(values.seconds) * 1000 });
  await flood.done;
  flood.close();
  await pause(10_000);
  const after = memoryOf(pid);
  const healthz = await fetch(`${api.url}/healthz`).then((res) => res.status, () => 0);
  console.log(
    `pipelining GET ${values.path} on ${values.connections} connections for ${values.seconds} s, never reading (${flood.sent} requests sent): ` +
      `RSS ${round(before?.rssMb)} MB at start, peak ${round(after?.peakRssMb)} MB, ${round(after?.rssMb)} MB 10 s after the clients left; /healthz then ${healthz}`,
  );
}

/** A receiver that accepts every callback and never answers (holding the connection), or answers 200. */
async function receiver(answer: boolean) {
  let received = 0;
  const held = new Set<IncomingMessage>();
  const server = createServer((req, res) => {
    req.resume();
    req.once("end", () => {
      received++;
      if (answer) res.writeHead(200, { "content-type": "application/json" }).end("{}");
      else held.add(req);
    });
  });
  server.listen(0, HOST);
  await once(server, "listening");
  return {
    base: `http://${HOST}:${(server.address() as AddressInfo).port}`,
    get received() {
      return received;
    },
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** `count` Webhook calls, `inFlight` at a time, each with the callBackUri `uri(i)`; their statuses by count. */
async function webhookCalls(api: Child, count: number, inFlight: number, uri: (i: number) => string): Promise<Record<number, number>> {
  const statuses: Record<number, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const status = await fetch(`${api.url}/helloworld`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ callBackUri: uri(i) }) }).then(
        (res) => res.arrayBuffer().then(() => res.status),
        () => 0,
      );
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return statuses;
}

const LONG_HOST = `${Array.from({ length: 5 }, (_, i) => String.fromCharCode(97 + i).repeat(60)).join(".")}.datafactory.azure.com`;

/**
 * `--calls` Webhook calls whose callbacks go to `target` (a hung receiver's base URL in, a callBackUri
 * out); then 100 calls for a well-behaved receiver: accepted, and called back within 10 s?
 */
function callbackFlood(what: string, target: (hungBase: string, i: number) => string) {
  return async (api: Child): Promise<void> => {
    const calls = Number(values.calls);
    const hung = await receiver(false);
    const good = await receiver(true);
    try {
      const flood = await webhookCalls(api, calls, 50, (i) => target(hung.base, i));
      const during = await webhookCalls(api, 100, 10, (i) => `${good.base}/cb/${i}`);
      const deadline = Date.now() + 10_000;
      while (good.received < (during[202] ?? 0) && Date.now() < deadline) await pause(50);
      console.log(
        `callbacks: ${calls} Webhook calls for ${what}, answered ${JSON.stringify(flood)}; then 100 calls for a well-behaved receiver, ` +
          `answered ${JSON.stringify(during)}, ${good.received} called back within 10 s`,
      );
    } finally {
      hung.close();
      good.close();
    }
  };
}

const SCENARIOS: Array<[name: string, run: (api: Child) => Promise<void>]> = [
  ["pipelining", pipelining],
  ["callbacks", callbackFlood("a receiver that accepts and never answers", (base, i) => `${base}/cb/${i}`)],
  ["callbacks", callbackFlood(`a host of ${LONG_HOST.length} characters (it never resolves)`, (_base, i) => `https://${LONG_HOST}/cb/${i}`)],
];

async function main(): Promise<void> {
  const which = positionals[0] ?? "all";
  for (const [name, run] of SCENARIOS) {
    if (which !== "all" && which !== name) continue;
    const api = await spawnApi({ CALLBACK_ALLOW_INSECURE: "true" });
    try {
      await waitFor200(`${api.url}/readyz`, api);
      await run(api);
    } finally {
      await api.stop(1_000);
    }
  }
}

void main();
