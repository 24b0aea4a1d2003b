import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import { Server as NetServer, type AddressInfo } from "node:net";

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

/** An HTTP server for `handler`, listening on `host:port` (port 0 picks a free one). */
export async function listen(
  handler: RequestListener,
  host: string,
  port: number,
  timeouts: ServerTimeouts = DEFAULT_TIMEOUTS,
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
  server.listen(port, host);
  await once(server, "listening");
  return server;
}

/** The port a listening server is bound to (the one the OS picked, for port 0). */
export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

/** How long connections that are idle at SIGTERM are left open, in case a request is on its way. */
const IDLE_GRACE_MS = 1_000;

/** How long before the drain's deadline unfinished work is told to wrap up and report. */
const WRAP_UP_MS = 5_000;

/**
 * Graceful shutdown: readiness turns 503 at once and the server stops accepting connections; requests in
 * flight finish (answers carry `Connection: close` from now on); connections idle at the signal get a
 * short grace, then close; and tracked work (webhook jobs, callbacks) settles, told to wrap up and report
 * shortly before the deadline. Resolves true if all of it finished before `timeoutMs`; otherwise the
 * remaining connections are cut and it resolves false.
 */
export async function shutdown(server: Server, drain: Drain, timeoutMs: number, log: Logger): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  drain.begin();
  log.info({ pendingWork: drain.pending, timeoutMs }, "draining");

  // Not server.close(): that also closes every connection without a request in progress, including one
  // just accepted whose request is still on its way, which its client sees as a reset. net.Server's
  // close only stops accepting; the connections are closed below, after a grace.
  const closed = new Promise<void>((resolve) => NetServer.prototype.close.call(server, () => resolve()));
  let sweeper: NodeJS.Timeout | undefined;
  const grace = setTimeout(() => {
    server.closeIdleConnections();
    // Connections busy until now become idle later (keep-alive clients that ignore `Connection: close`).
    sweeper = setInterval(() => server.closeIdleConnections(), 100);
  }, Math.min(IDLE_GRACE_MS, timeoutMs / 2));
  const wrapUp = setTimeout(() => drain.wrapUpNow(), Math.max(timeoutMs - WRAP_UP_MS, timeoutMs * 0.75));
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
