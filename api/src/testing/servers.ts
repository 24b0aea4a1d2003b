import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

import { boundPort, DEFAULT_TIMEOUTS, listen } from "../framework/server.js";

/** A server made by `listen` whose handler is the test's, and the server side of each connection. */
export async function serverWith(handler: (req: IncomingMessage, res: ServerResponse) => void, requestTimeoutMs = DEFAULT_TIMEOUTS.requestTimeoutMs) {
  const server = await listen(handler, "127.0.0.1", 0, { ...DEFAULT_TIMEOUTS, headersTimeoutMs: Math.min(requestTimeoutMs, DEFAULT_TIMEOUTS.headersTimeoutMs), requestTimeoutMs });
  const sockets: Socket[] = [];
  server.on("connection", (socket: Socket) => sockets.push(socket));
  return { server, port: boundPort(server), sockets };
}

/** Closes `server` and every connection it still has. */
export function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
