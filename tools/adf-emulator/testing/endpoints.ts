/**
 * For tests: small real endpoints on 127.0.0.1 that behave as ADF's endpoints do, so the emulator is
 * tested against servers of its tests' own, not only against this repository's API.
 */
import { once } from "node:events";
import http from "node:http";
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

/** Starts an endpoint that records each request and hands it to `handler`; `closeEndpoints` stops them all. */
export async function serve(handler: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      void Promise.resolve(handler(s, res)).catch((err: unknown) => {
        res.destroy(err as Error);
      });
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
        server.closeAllConnections();
      }),
  };
  servers.push(ts);
  return ts;
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
