import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";

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

/**
 * Graceful shutdown: readiness turns 503 at once, the server stops accepting, requests in flight finish
 * (answers carry `Connection: close` from now on), idle keep-alive connections close, and tracked work
 * (webhook jobs, callbacks) settles. Resolves true if all of it finished before `timeoutMs`; otherwise
 * the remaining connections are cut and it resolves false.
 */
export async function shutdown(server: Server, drain: Drain, timeoutMs: number, log: Logger): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  drain.begin();
  log.info({ pendingWork: drain.pending, timeoutMs }, "draining");

  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Connections that were busy when close() was called become idle later; keep closing them.
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  const finished = Promise.all([closed, drain.settled(deadline)]).then(([, settled]) => settled);
  const clean = await Promise.race([finished, timedOut]);
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
