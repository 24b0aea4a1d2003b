import { once } from "node:events";
import { createServer, type AddressInfo, type Socket } from "node:net";

/**
 * What a raw receiver does once a callback's request has arrived (its headers and its body): write
 * `answer` (raw bytes, anything HTTP allows or not), then keep the connection open (`hold`) or close it
 * (`close`), or `destroy` it without a word.
 */
export type RawStep = { answer: string; then: "hold" | "close" } | "destroy";

/**
 * A callback receiver on 127.0.0.1 that speaks raw TCP, for answers node:http would never send: a 101
 * protocol switch, informational responses and nothing after, a status line cut in half. Each request
 * (on any connection) gets the next step of `script`; the last step repeats.
 */
export async function startRawReceiver(script: RawStep[]) {
  const sockets = new Set<Socket>();
  let requests = 0;
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
    let buffered = "";
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("latin1");
      // The sender always sends a Content-Length: the request is complete once that many body bytes follow the head.
      for (;;) {
        const headEnd = buffered.indexOf("\r\n\r\n");
        if (headEnd < 0) return;
        const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buffered.slice(0, headEnd))?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        buffered = buffered.slice(headEnd + 4 + length);
        const step = script[Math.min(requests, script.length - 1)]!;
        requests++;
        if (step === "destroy") return void socket.destroy();
        socket.write(step.answer, "latin1");
        if (step.then === "close") return void socket.end();
      }
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Requests received so far. */
    get requests() {
      return requests;
    },
    /** Connections still open (held ones included). */
    get open() {
      return sockets.size;
    },
    close(): Promise<void> {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
