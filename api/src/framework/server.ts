import { once } from "node:events";
import { createServer, type RequestListener, type Server, type ServerResponse } from "node:http";
import { Server as NetServer, type AddressInfo, type Socket } from "node:net";

import type { Drain } from "./drain.js";
import type { Logger } from "./logging.js";

export interface ServerTimeouts {
  /** Idle keep-alive connections stay open longer than the load balancers' idle timeouts (60 s for most). */
  keepAliveTimeoutMs: number;
  /** A client gets this long to send its headers: slow-header clients cannot pin a socket. */
  headersTimeoutMs: number;
  /** ...and this long for the whole request, body included. */
  requestTimeoutMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  keepAliveTimeoutMs: 75_000,
  headersTimeoutMs: 15_000,
  requestTimeoutMs: 30_000,
};

/** Node's own answers to the parser's errors (see `socketOnError` in node's lib/_http_server.js), as JSON. */
const CLIENT_ERROR_ANSWERS: Record<string, [status: number, reason: string, code: string, message: string]> = {
  HPE_HEADER_OVERFLOW: [431, "Request Header Fields Too Large", "headers_too_large", "The request's headers are too large."],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "Payload Too Large", "payload_too_large", "The request's chunk extensions are too large."],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "Request Timeout", "request_timeout", "The request was not received in time."],
};
const MALFORMED: [number, string, string, string] = [400, "Bad Request", "malformed_request", "The request is not valid HTTP/1.1."];

/** The raw HTTP answer to a request the parser could not read: our JSON error shape, then the connection closes. */
export function clientErrorAnswer(code: string | undefined): { status: number; code: string; raw: string } {
  const [status, reason, errorCode, message] = CLIENT_ERROR_ANSWERS[code ?? ""] ?? MALFORMED;
  const body = JSON.stringify({ error: { code: errorCode, message } });
  const raw = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
  return { status, code: errorCode, raw };
}

/**
 * The server's `clientError`: a request the HTTP parser refused (bad framing, before or after the
 * headers), a request timeout, or a socket error. Answers with a status line and our JSON error when
 * nothing of a response has been written yet, as Node's default does with a bare status line; logs the
 * error by its code only (Node's parser errors carry the raw request bytes).
 */
function onClientError(log: Logger | undefined) {
  return (error: NodeJS.ErrnoException, socket: Socket) => {
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (error.code !== "ECONNRESET" && socket.writable && !inFlight?.headersSent) {
      const answer = clientErrorAnswer(error.code);
      socket.end(answer.raw);
      log?.info({ err: error, status: answer.status }, "request refused by the HTTP parser");
    } else {
      log?.debug({ err: error }, "connection error");
    }
    socket.destroySoon();
  };
}

/**
 * An HTTP server for `handler`, listening on `host:port` (port 0 picks a free one). Requests the HTTP
 * parser refuses are answered by `onClientError` and logged to `log`.
 */
export async function listen(
  handler: RequestListener,
  host: string,
  port: number,
  timeouts: ServerTimeouts = DEFAULT_TIMEOUTS,
  log?: Logger,
): Promise<Server> {
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      // Node checks the two timeouts above on this interval; its default (30 s) would blur them.
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersTimeoutMs),
    },
    handler,
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  server.on("clientError", onClientError(log));
  // Per connection, not per request: what shutdown needs to find the requests still uploading.
  const open = new Set<Socket>();
  CONNECTIONS.set(server, open);
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
  });
  server.listen(port, host);
  await once(server, "listening");
  return server;
}

/** The port a listening server is bound to (the one the OS picked, for port 0). */
export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** The open connections of each server `listen` made. */
const CONNECTIONS = new WeakMap<Server, Set<Socket>>();

/**
 * Closes the connections whose request is still being uploaded (its body has not all arrived): at
 * shutdown, a slow upload would otherwise hold the drain open until its request timeout (30 s, longer
 * than the drain). Returns how many were cut.
 */
function cutUploads(server: Server): number {
  let cut = 0;
  for (const socket of CONNECTIONS.get(server) ?? []) {
    const response = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
    if (response?.req && !response.req.complete) {
      socket.destroy();
      cut++;
    }
  }
  return cut;
}

/**
 * How long connections that are idle at SIGTERM are left open, in case a request is on its way; requests
 * still uploading then are cut.
 */
const IDLE_GRACE_MS = 1_000;

/**
 * Graceful shutdown: readiness turns 503 at once and the server stops accepting connections; requests in
 * flight finish (answers carry `Connection: close` from now on); connections idle at the signal get a
 * short grace, then close, and requests still uploading then are cut; tracked work (webhook jobs,
 * callbacks) gets `timeoutMs` to settle, then `wrapUpMs` more once told to wrap up and report (jobs
 * stopped, each callback owed one last attempt; see wrapUpMs in callbacks/policy.ts). Resolves true if all
 * of it finished before `timeoutMs + wrapUpMs`; otherwise the remaining connections are cut and it
 * resolves false.
 */
export async function shutdown(server: Server, drain: Drain, timeoutMs: number, log: Logger, wrapUpMs = 0): Promise<boolean> {
  const deadline = Date.now() + timeoutMs + wrapUpMs;
  drain.begin();
  log.info({ pendingWork: drain.pending, timeoutMs, wrapUpMs }, "draining");

  // Not server.close(): that also closes every connection without a request in progress, including one
  // just accepted whose request is still on its way, which its client sees as a reset. net.Server's
  // close only stops accepting; the connections are closed below, after a grace.
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  let sweeper: NodeJS.Timeout | undefined;
  const uploadsCut = () => {
    const cut = cutUploads(server);
    if (cut > 0) log.warn({ connections: cut }, "draining: requests still uploading were cut");
  };
  const grace = setTimeout(() => {
    server.closeIdleConnections();
    uploadsCut();
    // Connections busy until now become idle later (keep-alive clients that ignore `Connection: close`).
    sweeper = setInterval(() => server.closeIdleConnections(), 100);
  }, Math.min(IDLE_GRACE_MS, timeoutMs / 2));
  const wrapUp = setTimeout(() => {
    log.info({ pendingWork: drain.pending, wrapUpMs }, "drain timeout reached: wrapping up");
    drain.wrapUpNow();
    uploadsCut();
  }, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  const finished = Promise.all([closed, drain.settled(deadline)]).then(([, settled]) => settled);
  const clean = await Promise.race([finished, timedOut]);
  clearTimeout(grace);
  clearTimeout(wrapUp);
  clearInterval(sweeper);
  clearTimeout(timer);
  if (clean) {
    log.info("drained");
  } else {
    log.error({ pendingWork: drain.pending }, "drain timed out: closing the remaining connections");
    server.closeAllConnections();
  }
  return clean;
}
