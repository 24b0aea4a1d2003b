/**
 * The callback receiver: the emulator's stand-in for ADF's callBackUri, on 127.0.0.1 at a random
 * port and a secret path (or at the address and port given, see ReceiverAddress).
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

import { formatMs } from "./timespan.js";

export interface Callback {
  ms: number;
  /** The body as ADF's callback endpoint takes it: parsed JSON, else its text; undefined when empty. */
  body?: unknown;
  /** Why the callback was refused (a body over the limit). */
  malformed?: string;
}

export interface Receiver {
  uri: string;
  maskedUri: string;
  /** Resolves with the first callback (valid or malformed). */
  first: Promise<Callback>;
  close(): Promise<void>;
}

function readBody(text: string): unknown {
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function maskToken(token: string): string {
  return `${token.slice(0, 4)}…`;
}

/**
 * Where the receiver listens, and what callBackUri names. By default it listens on 127.0.0.1 at a random
 * port and names that; for an API in a local cluster (a pod's 127.0.0.1 is the pod itself), listen on an
 * address the pods reach (or 0.0.0.0) and name that address, e.g. the cluster network's gateway.
 */
export interface ReceiverAddress {
  /** The address to bind; default 127.0.0.1. */
  listenHost?: string;
  /** The port to bind; default 0 (a random free one). */
  listenPort?: number;
  /** The host callBackUri names; default listenHost. */
  host?: string;
  /** The port callBackUri names; default the bound port. */
  port?: number;
}

/** A host as a URL writes it: an IPv6 address in brackets. */
const urlHost = (host: string) => (host.includes(":") && !host.startsWith("[") ? `[${host}]` : host);

export async function startReceiver(start: number, maxBytes: number, onProgress: (line: string) => void, address: ReceiverAddress = {}): Promise<Receiver> {
  const token = randomBytes(24).toString("base64url");
  const path = `/callback/${token}`;
  let resolveFirst!: (cb: Callback) => void;
  const first = new Promise<Callback>((resolve) => (resolveFirst = resolve));
  let received = false;

  const reply = (res: http.ServerResponse, status: number, body: object) => {
    res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (pathname !== path) return reply(res, 404, { error: "Not found" });
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      return reply(res, 405, { error: "Method not allowed: the callBackUri takes a POST" });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      const ms = performance.now() - start;
      let callback: Callback;
      if (tooLarge) {
        callback = { ms, malformed: `the callback body is larger than ${maxBytes} bytes` };
        reply(res, 413, { error: callback.malformed });
      } else {
        // Any body completes the activity, as with ADF: an empty POST (Invoke-WebRequest -Method Post)
        // is the usual "done", and a body that is not JSON is kept as text.
        callback = { ms, body: readBody(Buffer.concat(chunks).toString("utf8")) };
        reply(res, 200, { status: received ? "already received" : "received" });
      }
      if (received) {
        onProgress(`A further callback arrived after ${formatMs(ms)}; only the first one counts.`);
        return;
      }
      received = true;
      // Settle once the answer is written, so that closing the receiver cannot cut it off
      // (a caller that saw its callback reset would retry it).
      res.once("close", () => resolveFirst(callback));
    });
    req.on("error", () => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.listenPort ?? 0, address.listenHost ?? "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://${urlHost(address.host ?? address.listenHost ?? "127.0.0.1")}:${address.port ?? port}/callback/`;
  return {
    uri: base + token,
    maskedUri: base + maskToken(token),
    first,
    close: () =>
      new Promise<void>((resolve) => {
        // Idle keep-alive connections go at once; a request still being answered gets a moment.
        const force = setTimeout(() => server.closeAllConnections(), 500);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
