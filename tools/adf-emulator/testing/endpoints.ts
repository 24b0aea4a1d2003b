/**
 * For tests: small real endpoints on 127.0.0.1 that behave as ADF's endpoints do, so the emulator is
 * tested against servers of its tests' own, not only against this repository's API; and hostile ones,
 * which write bytes a well-behaved server library would refuse to send.
 */
import { once } from "node:events";
import http from "node:http";
import https from "node:https";
import net, { type AddressInfo } from "node:net";

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface TestServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

export type Handler = (seen: Seen, res: http.ServerResponse) => void | Promise<void>;

const servers: TestServer[] = [];

/**
 * Starts an endpoint that records each request and hands it to `handler`; `closeEndpoints` stops them all.
 * With `tls` (a key and certificate) it serves https.
 */
export async function serve(handler: Handler, tls?: { key: string; cert: string }): Promise<TestServer> {
  const seen: Seen[] = [];
  const onRequest: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      void Promise.resolve(handler(s, res)).catch((err: unknown) => {
        res.destroy(err as Error);
      });
    });
  };
  const server = tls ? https.createServer(tls, onRequest) : http.createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const ts: TestServer = {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.push(ts);
  return ts;
}

/**
 * A hostile endpoint: it answers each request (its head and body, read by Content-Length) with
 * `respond`'s bytes as they are, written as latin1, then closes the connection. Node's own server
 * refuses to write control characters in a status line or header, and names such as `__proto__`
 * are best written by hand; a server on the other side of the wire is under no such rule.
 */
export async function serveRaw(respond: (seen: Seen) => string): Promise<TestServer> {
  const seen: Seen[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf("\r\n\r\n");
      if (end < 0) return;
      const [requestLine = "", ...fields] = buffered.subarray(0, end).toString("latin1").split("\r\n");
      const headers: http.IncomingHttpHeaders = {};
      for (const field of fields) {
        const colon = field.indexOf(":");
        headers[field.slice(0, colon).trim().toLowerCase()] = field.slice(colon + 1).trim();
      }
      const length = Number(headers["content-length"] ?? 0);
      if (buffered.length < end + 4 + length) return;
      const [method = "", url = ""] = requestLine.split(" ");
      const s: Seen = { method, url, headers, body: buffered.subarray(end + 4, end + 4 + length).toString() };
      seen.push(s);
      socket.end(Buffer.from(respond(s), "latin1"));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const ts: TestServer = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
  servers.push(ts);
  return ts;
}

/**
 * An HTTP/1.1 answer for serveRaw: the status line and header lines as given (each character one byte),
 * then the body in UTF-8 with its length.
 */
export function rawAnswer(statusLine: string, headerLines: string[], body = ""): string {
  const bytes = Buffer.from(body, "utf8");
  return [statusLine, ...headerLines, `Content-Length: ${bytes.length}`, "Connection: close", "", bytes.toString("latin1")].join("\r\n");
}

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Closes every endpoint `serve` started (use as `afterEach(closeEndpoints)`). */
export async function closeEndpoints(): Promise<void> {
  await Promise.all(servers.splice(0).map((s) => s.close()));
}

export function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
}

export function callBackUriOf(seen: Seen): string {
  return (JSON.parse(seen.body) as { callBackUri: string }).callBackUri;
}

/** POSTs `body` to a callBackUri as an endpoint would; resolves with the receiver's status. */
export async function callBack(uri: string, body: string): Promise<number> {
  const res = await fetch(uri, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  await res.arrayBuffer();
  return res.status;
}

/** An endpoint that answers 202 with a receipt, then calls back with `callback` after `delayMs`. */
export function acceptsThenCallsBack(callback: unknown, delayMs = 20, onAnswer: (status: number) => void = () => undefined): Handler {
  return (seen, res) => {
    json(res, 202, { jobId: "job-1", status: "accepted" });
    setTimeout(() => {
      void callBack(callBackUriOf(seen), JSON.stringify(callback)).then(onAnswer);
    }, delayMs);
  };
}
