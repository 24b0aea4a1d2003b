import { once } from "node:events";
import { connect, type Socket } from "node:net";

/** A pipelined request without a body: `GET <path>`, keep-alive. */
export const pipelinedGet = (path: string) => `GET ${path} HTTP/1.1\r\nHost: api\r\n\r\n`;

export interface Flood {
  /** Requests handed to the kernel so far, all connections together. */
  readonly sent: number;
  /** Resolves when every connection has stopped writing: its time is up, or the server stopped reading. */
  done: Promise<void>;
  close(): void;
}

/**
 * `connections` connections to 127.0.0.1:`port` that pipeline `request` over and over and never read an
 * answer (the attack of issue 25: a server that keeps reading holds every answer for them). Each writes as
 * fast as its socket takes the bytes, for `durationMs` at most; a write the server does not take within
 * `stallMs` ends that connection's writing early (the server stopped reading it). Bounded either way.
 */
export async function pipelineFlood(port: number, request: string, { connections, durationMs, stallMs = 2_000 }: { connections: number; durationMs: number; stallMs?: number }): Promise<Flood> {
  const perChunk = Math.max(1, Math.floor(64 * 1024 / request.length));
  const chunk = Buffer.from(request.repeat(perChunk), "latin1");
  const sockets: Socket[] = [];
  let sent = 0;
  const deadline = Date.now() + durationMs;
  const writeUntilDone = async (socket: Socket) => {
    while (Date.now() < deadline && !socket.destroyed) {
      if (socket.write(chunk)) {
        sent += perChunk;
        // Let the event loop breathe: other connections, and the flood's own timers.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const drained = await Promise.race([
        once(socket, "drain").then(() => true, () => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), Math.min(stallMs, Math.max(0, deadline - Date.now())))),
      ]);
      if (!drained) return;
      sent += perChunk;
    }
  };
  for (let i = 0; i < connections; i++) {
    const socket = connect(port, "127.0.0.1");
    socket.on("error", () => {});
    await once(socket, "connect");
    // Never read: the answers pile up in the kernel's buffers, then wherever the server keeps them.
    socket.pause();
    sockets.push(socket);
  }
  const done = Promise.all(sockets.map(writeUntilDone)).then(() => {});
  return {
    get sent() {
      return sent;
    },
    done,
    close: () => sockets.forEach((socket) => socket.destroy()),
  };
}

/** One answer as a pipelining client reads it: its status and its body (every answer here has a Content-Length). */
export interface PipelinedAnswer {
  status: number;
  body: string;
}

/** The complete answers at the start of `text` (each framed by its Content-Length). */
function parseAnswers(text: string): PipelinedAnswer[] {
  const answers: PipelinedAnswer[] = [];
  for (let at = 0; ; ) {
    const headEnd = text.indexOf("\r\n\r\n", at);
    if (headEnd < 0) return answers;
    const head = text.slice(at, headEnd);
    const declared = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
    if (declared === undefined) throw new Error(`an answer without Content-Length: ${head}`);
    const length = Number(declared);
    if (text.length < headEnd + 4 + length) return answers;
    answers.push({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), body: text.slice(headEnd + 4, headEnd + 4 + length) });
    at = headEnd + 4 + length;
  }
}

/**
 * Writes `requests` (pipelined, in one go) on a fresh connection and reads until `count` answers have
 * arrived (a well-behaved pipelining client). Rejects if the connection closes first.
 */
export async function pipelineAndRead(port: number, requests: string, count: number): Promise<PipelinedAnswer[]> {
  const socket = connect(port, "127.0.0.1");
  await once(socket, "connect");
  let text = "";
  const complete = new Promise<PipelinedAnswer[]>((resolve, reject) => {
    socket.on("data", (data: Buffer) => {
      text += data.toString("latin1");
      const answers = parseAnswers(text);
      if (answers.length >= count) resolve(answers);
    });
    socket.once("close", () => reject(new Error(`closed after ${parseAnswers(text).length} of ${count} answers`)));
    socket.once("error", reject);
  });
  socket.write(requests);
  try {
    return await complete;
  } finally {
    socket.destroy();
  }
}
