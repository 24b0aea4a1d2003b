import { connect, type AddressInfo } from "node:net";
import { once } from "node:events";
import { createServer, get, request, type Agent } from "node:http";

/**
 * HTTP clients for tests that need more than fetch: a connection of their own per request, any method,
 * headers and framing, and answers read raw.
 */

/** A request, sent as given (the fuzzer's). */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** An answer, read raw: status, headers and the body as text. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Sends `request` to `base` on a connection of its own; an answer that takes over 10 s is an error. */
export function sendRequest(base: URL, { method, path, headers, body }: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: base.hostname, port: base.port, method, path, headers, agent: false, timeout: 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer to ${method} ${path} within 10 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** An answer with its JSON body parsed (`{}` when empty). */
export interface JsonAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** POSTs `body` as it is given: `chunked` without a Content-Length, or with the headers given. */
export function postBody(api: { url: string }, path: string, body: Buffer | string, headers: Record<string, string> = {}, chunked = false): Promise<JsonAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(`${api.url}${path}`, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json", ...(chunked ? { "transfer-encoding": "chunked" } : { "content-length": String(Buffer.byteLength(body)) }), ...headers },
    });
    req.once("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as JsonAnswer["body"]) : {} }));
    });
    req.once("error", reject);
    req.end(body);
  });
}

/** How a traced call ended: answered, or a connection error. */
export type CallOutcome =
  | { id: string; kind: "answered"; status: number; body: string }
  | { id: string; kind: "error"; code: string; message: string };

let sequence = 0;

/**
 * One request, tagged with an x-request-id that the API's request log repeats: on a connection of its
 * own, or on `agent`'s. `sent` resolves once the whole request has been handed to the kernel.
 */
export function tracedCall(base: string, method: string, path: string, body?: unknown, agent: Agent | false = false, sent?: (flushed: Promise<unknown>) => void): Promise<CallOutcome> {
  const id = `call-${++sequence}`;
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = { "x-request-id": id };
    if (payload) Object.assign(headers, { "content-type": "application/json", "content-length": Buffer.byteLength(payload) });
    const req = request(url, { method, agent, headers });
    sent?.(once(req, "finish"));
    req.once("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.once("end", () => resolve({ id, kind: "answered", status: res.statusCode ?? 0, body: text }));
      res.once("error", (error: NodeJS.ErrnoException) => resolve({ id, kind: "error", code: error.code ?? "", message: error.message }));
    });
    req.once("error", (error: NodeJS.ErrnoException) => resolve({ id, kind: "error", code: error.code ?? "", message: error.message }));
    req.end(payload);
  });
}

/** POSTs JSON with fetch: status, Retry-After and the JSON body. */
export async function postJsonForRetry(url: string, body: unknown) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, unknown> };
}

/** GET on `agent`'s connection; the status, or the connection error. */
export function statusOn(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    }).once("error", reject);
  });
}

/** Writes `raw` on a fresh connection (then half-closes when `end`), and returns all the server answered. */
export async function sendRaw(url: string, raw: string | Buffer, { end = false } = {}): Promise<string> {
  const { port } = new URL(url);
  const socket = connect(Number(port), "127.0.0.1");
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  socket.on("error", () => {}); // a reset after the answer is expected
  // A safety net, not a timing assertion: every shape here ends with the server closing the connection.
  socket.setTimeout(10_000, () => socket.destroy());
  socket.write(raw);
  if (end) socket.end();
  await new Promise((resolve) => socket.once("close", resolve));
  return Buffer.concat(chunks).toString("latin1");
}

/** A POST exactly as given: fetch would add a Content-Type of its own to a string body. */
export function postAsGiven(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-length": String(Buffer.byteLength(body)), ...headers } });
    req.once("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.once("error", reject);
    req.end(body);
  });
}

/** A port nothing listens on (bound, then released). */
export async function deadUrl(path = "/"): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}
