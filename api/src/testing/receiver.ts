import { EventEmitter, once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** How the receiver answers one callback POST: a status (with headers), or a misbehaviour. */
export type Behaviour = number | { status: number; headers: Record<string, string> } | "hang" | "destroy" | "close-mid-response";

export interface Received {
  path: string;
  body: Record<string, unknown>;
  at: number;
}

/**
 * A real callback receiver on 127.0.0.1, standing in for ADF's callBackUri endpoint. It answers each
 * POST by the next behaviour in `script` (then 200), and records the callbacks it acknowledged with 2xx.
 */
export async function startReceiver(script: Behaviour[] = []) {
  const delivered: Received[] = [];
  let attempts = 0;
  const attemptEvents = new EventEmitter();
  const waiters: Array<() => void> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      attempts++;
      attemptEvents.emit("attempt");
      const behaviour = script.shift() ?? 200;
      if (behaviour === "hang") return; // never answers
      if (behaviour === "destroy") return void req.socket.destroy();
      const record = () => {
        delivered.push({ path: req.url ?? "", body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>, at: Date.now() });
        waiters.splice(0).forEach((wake) => wake());
      };
      if (behaviour === "close-mid-response") {
        record();
        res.writeHead(200, { "content-type": "text/plain", "content-length": "100" });
        res.write("partial");
        return void setTimeout(() => req.socket.destroy(), 10);
      }
      const { status, headers } = typeof behaviour === "number" ? { status: behaviour, headers: {} } : behaviour;
      if (status >= 200 && status < 300) record();
      res.writeHead(status, { "content-type": "application/json", ...headers }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    delivered,
    get attempts() {
      return attempts;
    },
    /** Resolves once `count` callback POSTs have arrived (answered or not). */
    async untilAttempts(count: number): Promise<void> {
      while (attempts < count) await once(attemptEvents, "attempt");
    },
    /** Resolves once `count` callbacks were acknowledged; rejects after `timeoutMs`, a bound for a broken API, not a speed test. */
    async waitFor(count: number, timeoutMs = 15_000): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      while (delivered.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} callbacks, got ${delivered.length} after ${timeoutMs} ms`);
        await Promise.race([new Promise<void>((wake) => waiters.push(wake)), new Promise((r) => setTimeout(r, 50))]);
      }
      return delivered;
    },
    close(): Promise<void> {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The fields tests read from our answers: an error, a webhook receipt, or a job's output. */
export interface ApiAnswer {
  error?: { code: string; message: string };
  jobId?: string;
  status?: string;
  [field: string]: unknown;
}

/** POSTs JSON with fetch; returns status, headers and parsed body. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as ApiAnswer) : undefined };
}

/**
 * A receiver that answers every callback 200, but only `delayMs` after it arrived: a slow ADF. It counts
 * the callbacks it acknowledged per path, and keeps their bodies.
 */
export async function startSlowReceiver(delayMs: number) {
  const acks = new Map<string, Array<Record<string, unknown>>>();
  const timers = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        const path = req.url ?? "";
        acks.set(path, [...(acks.get(path) ?? []), JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>]);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      }, delayMs);
      timers.add(timer);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    acks,
    close(): Promise<void> {
      timers.forEach((timer) => clearTimeout(timer));
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
