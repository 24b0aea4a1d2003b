import { once } from "node:events";
import { connect, type Socket } from "node:net";

/** A raw connection to the API on 127.0.0.1: what it received so far, and whether it has closed. */
export interface RawConnection {
  socket: Socket;
  received(): string;
  closed: Promise<void>;
  /** Resolves once the received text matches `pattern` (or rejects if the connection closes first). */
  until(pattern: RegExp): Promise<void>;
}

export async function rawConnection(port: number): Promise<RawConnection> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  let received = "";
  const waiters = new Set<() => void>();
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
    waiters.forEach((wake) => wake());
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return {
    socket,
    received: () => received,
    closed,
    until: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!pattern.test(received)) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
        void closed.then(() => (pattern.test(received) ? resolve() : reject(new Error(`closed before ${pattern}: ${received.slice(0, 200)}`))));
      }),
  };
}

/**
 * A POST whose body arrives all but its last byte, and then nothing: the slow upload that holds a body's
 * bytes in the server for as long as it is let. It asks `Expect: 100-continue`, so the server has read the
 * headers and handed the request on (and decided whether to read the body) before the body is sent: it
 * resolves once the body is written, or once the server answered without waiting for it.
 */
export async function heldUpload(port: number, path: string, body: string): Promise<RawConnection & { finish(): void }> {
  const connection = await rawConnection(port);
  connection.socket.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`,
  );
  await connection.until(/^HTTP\/1\.1 \d{3} /).catch(() => {});
  if (/^HTTP\/1\.1 100 /.test(connection.received()) && !connection.socket.destroyed) {
    await new Promise<void>((resolve) => connection.socket.write(body.slice(0, -1), () => resolve()));
  }
  return { ...connection, finish: () => void connection.socket.write(body.slice(-1)) };
}

/** A client that sends slowly (slowloris): see slowSocket. */
export interface SlowSocket {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
  stop(): void;
}

/** Opens a raw socket, writes `first`, then one byte of `drip` every `everyMs` until closed or stopped. */
export async function slowSocket(port: number, first: string, drip: string, everyMs: number): Promise<SlowSocket> {
  const socket = connect(port, "127.0.0.1");
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let received = "";
  socket.on("data", (chunk: Buffer) => (received += chunk.toString()));
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.write(first);
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || socket.writableEnded) return clearInterval(timer);
    socket.write(drip[i++ % drip.length]!);
  }, everyMs);
  void closed.then(() => clearInterval(timer));
  return {
    socket,
    received: () => received,
    closed,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}
