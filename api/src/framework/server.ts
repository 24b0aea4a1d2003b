import { once } from "node:events";
import { createServer, STATUS_CODES, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from "node:http";
import { Server as NetServer, type AddressInfo, type Socket } from "node:net";

import type { Drain } from "./drain.js";
import { errorJson, JSON_TYPE } from "./errors.js";
import type { Logger } from "./logging.js";
import { observeRequest, type Metrics } from "./metrics.js";
import { admitRequest, currentAnswer, watchConnection } from "./pipelining.js";

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
const CLIENT_ERROR_ANSWERS: Record<string, Refusal> = {
  HPE_HEADER_OVERFLOW: [431, "headers_too_large", "The request's headers are too large."],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "payload_too_large", "The request's chunk extensions are too large."],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "request_timeout", "The request was not received in time."],
};
const MALFORMED: Refusal = [400, "malformed_request", "The request is not valid HTTP/1.1."];

/** A refusal at the HTTP layer, before any route: status, error code and message. */
type Refusal = [status: number, code: string, message: string];

/**
 * Requests Node would answer on its own, with an empty body and nothing logged or counted (its
 * `requireHostHeader` 400, its 417 when no `checkExpectation` listener, and a closed connection for
 * CONNECT when no `connect` listener): answered here instead, as JSON errors.
 */
const MISSING_HOST: Refusal = [400, "missing_host", "An HTTP/1.1 request must have a Host header."];
const EXPECTATION_FAILED: Refusal = [417, "expectation_failed", "The only Expect this API meets is 100-continue."];
const CONNECT_REFUSED: Refusal = [405, "method_not_allowed", "CONNECT is not allowed: this API is no proxy."];

/** The raw HTTP answer to a refusal on a bare socket: our JSON error shape, then the connection closes. */
function rawAnswer([status, code, message]: Refusal): string {
  const body = errorJson(code, message);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Where the HTTP layer's refusals are told: a log line each, and (on the job port) the request metrics. */
interface RefusalSink {
  log?: Logger | undefined;
  metrics?: Metrics | undefined;
}

/**
 * Logs and counts a refusal the HTTP layer answered itself, as the request pipeline logs and counts the
 * app's: by method (`unknown` when the parser could not tell), route `unmatched` and status.
 */
function told({ log, metrics }: RefusalSink, method: string, [status, code]: Refusal, err?: NodeJS.ErrnoException): void {
  if (metrics) observeRequest(metrics, method, "unmatched", status, 0);
  if (err) log?.info({ err, status }, "request refused by the HTTP parser");
  else log?.info({ method, status, code }, "request refused");
}

/**
 * The server's `clientError`: a request the HTTP parser refused (bad framing, before or after the
 * headers), a request timeout, or a socket error. Answers with a status line and our JSON error when
 * nothing of a response has been written yet, as Node's default does with a bare status line; logs the
 * error by its code only (Node's parser errors carry the raw request bytes).
 */
function onClientError(sink: RefusalSink) {
  return (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code !== "ECONNRESET" && socket.writable && !currentAnswer(socket)?.headersSent) {
      const refusal = CLIENT_ERROR_ANSWERS[error.code ?? ""] ?? MALFORMED;
      socket.end(rawAnswer(refusal));
      told(sink, "unknown", refusal, error);
    } else {
      sink.log?.debug({ err: error }, "connection error");
    }
    socket.destroySoon();
  };
}

/** Answers a refusal on a request's response, then closes the connection (Node does for a missing Host). */
function refuse(res: ServerResponse, sink: RefusalSink, refusal: Refusal): void {
  const [status, code, message] = refusal;
  const body = errorJson(code, message);
  res.writeHead(status, { "Content-Type": JSON_TYPE, "Content-Length": Buffer.byteLength(body), Connection: "close" }).end(body);
  told(sink, res.req.method ?? "unknown", refusal);
}

/**
 * An HTTP server for `handler`, listening on `host:port` (port 0 picks a free one). Requests the HTTP
 * layer refuses (the parser's, a missing Host, an unmet Expect, CONNECT) are answered as JSON errors,
 * logged to `log` and counted in `metrics`; what each connection makes the server hold is bounded (see pipelining.ts).
 */
export async function listen(
  handler: RequestListener,
  host: string,
  port: number,
  timeouts: ServerTimeouts = DEFAULT_TIMEOUTS,
  log?: Logger,
  metrics?: Metrics,
): Promise<Server> {
  const sink: RefusalSink = { log, metrics };
  const serve: RequestListener = (req, res) => {
    if (req.httpVersion === "1.1" && req.headers.host === undefined) refuse(res, sink, MISSING_HOST);
    else handler(req, res);
  };
  const unmetExpectation: RequestListener = (req, res) => refuse(res, sink, EXPECTATION_FAILED);
  const server = createServer(
    {
      headersTimeout: timeouts.headersTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      // Node checks the two timeouts above on this interval; its default (30 s) would blur them.
      connectionsCheckingInterval: Math.min(1_000, timeouts.headersTimeoutMs),
      // Checked below instead, to answer in our JSON shape (and log and count it).
      requireHostHeader: false,
    },
    (req, res) => admitRequest(req, res, serve),
  );
  server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
  server.on("clientError", onClientError(sink));
  // An Expect other than 100-continue (Node emits this instead of `request`).
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => admitRequest(req, res, unmetExpectation));
  server.on("connect", (req: IncomingMessage, socket: Socket) => {
    socket.on("error", () => {});
    socket.end(rawAnswer(CONNECT_REFUSED));
    socket.destroySoon();
    told(sink, "CONNECT", CONNECT_REFUSED);
  });
  // Per connection, not per request: what shutdown needs to find the requests still uploading.
  const open = new Set<Socket>();
  CONNECTIONS.set(server, open);
  server.on("connection", (socket: Socket) => {
    open.add(socket);
    socket.once("close", () => open.delete(socket));
    // A client gets as long to take an answer as to send a request.
    watchConnection(socket, timeouts.requestTimeoutMs);
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
    const response = currentAnswer(socket);
    if (response && !response.req.complete) {
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
