import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { RunningApi } from "./api.js";
import { postJson } from "./receiver.js";

/** How the receiver answers the n-th attempt at one callback path. */
export type Step = number | "hang" | "destroy" | "close-mid-response" | "late-ack";

export interface FlakyReceiver {
  base: string;
  port: number;
  /** Acknowledged (2xx sent) callbacks per path. */
  acks: Map<string, number>;
  /** Attempts per path. */
  attempts: Map<string, number>;
  /** How many "late-ack" answers were tried (after the sender had closed the connection). */
  readonly lateAnswers: number;
  waitForAcks(paths: string[], timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** A receiver on 127.0.0.1 (on `port` if given) answering each path's attempts by `script` (then 200). */
export async function flakyReceiver(script: Step[], port = 0): Promise<FlakyReceiver> {
  const acks = new Map<string, number>();
  const attempts = new Map<string, number>();
  let lateAnswers = 0;
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
      if (step === "late-ack") {
        // Answers 200 only once the sender has given up on this attempt (its timeout closed the
        // connection): an acknowledgement that comes too late, which the sender must not count.
        return void req.socket.once("close", () => {
          lateAnswers++;
          if (!res.destroyed && res.writable) {
            ack();
            res.writeHead(200).end("{}");
          }
        });
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
    get lateAnswers() {
      return lateAnswers;
    },
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

/** Starts `count` webhook jobs calling back `${base}/cb/<tag>-<i>`; returns their callback paths and job ids. */
export async function startJobs(api: RunningApi, base: string, tag: string, count: number): Promise<{ paths: string[]; jobIds: string[] }> {
  const paths = Array.from({ length: count }, (_, i) => `/cb/${tag}-${i}`);
  const answers = await Promise.all(paths.map((path) => postJson(`${api.url}/helloworld`, { callBackUri: `${base}${path}` })));
  answers.forEach((answer) => assert.equal(answer.status, 202, JSON.stringify(answer.body)));
  return { paths, jobIds: answers.map((answer) => answer.body?.jobId as string) };
}

/** Resolves once the sender is done with every one of these jobs' callbacks: after that, no attempt can follow. */
export const sendersDone = (api: RunningApi, jobIds: string[]) =>
  Promise.all(
    jobIds.map((jobId) => api.waitForLog((l) => l.jobId === jobId && (l.msg === "callback delivered" || String(l.msg).startsWith("callback given up")))),
  );
