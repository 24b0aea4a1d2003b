import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

import type { JWK } from "jose";

/**
 * How the key endpoint answers each fetch: `serve` the keys (with the status set, 200 by default);
 * `hang` (hold the answer until `release()`); `endless` (a 200 whose body never ends: `{"keys":[` and
 * then padding, up to ENDLESS_CAP_BYTES, written as fast as the client takes it).
 */
export type JwksBehaviour = "serve" | "hang" | "endless";

/** Where `endless` stops all the same, so that a client that reads everything cannot take a test down. */
export const ENDLESS_CAP_BYTES = 64 * 1024 ** 2;

export interface JwksServer {
  url: string;
  /** Fetches received so far. */
  readonly fetches: number;
  /** The status `serve` answers with from now on. */
  status: number;
  behaviour: JwksBehaviour;
  /** Held fetches (`hang`) whose client gave up (closed the connection) before they were answered. */
  readonly abandoned: number;
  /** Bytes of `endless` bodies written so far. */
  readonly endlessBytes: number;
  /** Answers the held fetches with the keys. */
  release(): void;
  close(): Promise<void>;
}

/** A tenant's key set, as Entra ID serves it, on 127.0.0.1; each fetch answered by `behaviour`. */
export async function startJwksServer(keys: JWK[], status = 200): Promise<JwksServer> {
  const state = { fetches: 0, status, behaviour: "serve" as JwksBehaviour, abandoned: 0, endlessBytes: 0 };
  const held = new Set<ServerResponse>();
  const serve = (res: ServerResponse) =>
    res.writeHead(state.status, { "content-type": "application/json" }).end(state.status === 200 ? JSON.stringify({ keys }) : "{}");
  const endless = (res: ServerResponse) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.write('{"keys":[');
    const padding = Buffer.alloc(64 * 1024, " ");
    const more = () => {
      while (!res.destroyed && state.endlessBytes < ENDLESS_CAP_BYTES) {
        state.endlessBytes += padding.length;
        if (!res.write(padding)) return void res.once("drain", more);
      }
      if (!res.destroyed) res.end("]}");
    };
    more();
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    state.fetches++;
    if (req.url !== "/keys") return void res.writeHead(404).end();
    res.on("error", () => {});
    if (state.behaviour === "endless") return endless(res);
    if (state.behaviour === "serve") return serve(res);
    held.add(res);
    res.once("close", () => {
      if (held.delete(res)) state.abandoned++;
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`,
    get fetches() {
      return state.fetches;
    },
    get status() {
      return state.status;
    },
    set status(value: number) {
      state.status = value;
    },
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(value: JwksBehaviour) {
      state.behaviour = value;
    },
    get abandoned() {
      return state.abandoned;
    },
    get endlessBytes() {
      return state.endlessBytes;
    },
    release() {
      for (const res of [...held]) {
        held.delete(res);
        serve(res);
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
