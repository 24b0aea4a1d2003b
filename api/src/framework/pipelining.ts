import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * Requests of one connection handed to the app at once. A pipelining client's requests are answered in
 * order anyway (each answer waits for the one before it), so more would only add contexts, promises and
 * queued answers for the server to hold.
 */
export const MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION = 16;

const LOAD = Symbol("connectionLoad");
const HANDED = Symbol("handedToApp");
type LoadedSocket = Socket & { [LOAD]?: ConnectionLoad };
type Waiting = { req: IncomingMessage; res: ServerResponse; serve: RequestListener };

/**
 * What one connection makes the server hold, bounded (issue 25: 10 connections that pipelined
 * `GET /healthz` and never read an answer took the process from 86 to 405 MB, and it kept most of it).
 *
 * Node parses every request a read brings (a 64 KB read holds about 1,800 small ones), emits `request`
 * for each at once and queues their responses on the socket; it stops reading when the socket must
 * drain, but starts again as soon as its queue of answers has been handed to the socket, read by the
 * client or not. So here, per connection:
 * - at most MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION requests are handed to the app at once, and none while
 *   the socket's answers are not being read (its write buffer is full: `writableNeedDrain`); the others
 *   wait, as Node's bare request and response, and are handed on in order;
 * - reading stops while more than that are waiting or in flight, or while the answers are not being
 *   read, and goes on once they are;
 * - a connection whose answers are not read for `stallTimeoutMs` is closed: its client has stopped.
 * So one connection holds at most one read's requests, that many contexts, and a write buffer's worth
 * of answers, for a bounded time.
 *
 * Only the socket's public stream API is used, and one property of it matters: Node's HTTP server reads
 * the socket through its parser, and starts or stops reading on the socket's `resume` and `pause`
 * events. `resume()` emits its event a tick later, and a `pause()` in between does not undo it: the
 * event then starts reading a socket that says it is paused, and every later `pause()` is a no-op. So a
 * pause is never made while a resume of ours is on its way (the `resume` event pauses instead), and a
 * `resume` event that finds the socket paused again lets it flow once more, so that the next one can
 * pause it for real. Node also resumes the socket on its own (as its queue of answers empties, or to
 * read a request's body): the `resume` event pauses it again, in the same tick, before any read.
 */
class ConnectionLoad {
  /** Requests handed to the app whose response has not closed. */
  active = 0;
  readonly waiting: Waiting[] = [];
  /** Every response of this connection not closed yet, waiting or handed on, in the order of its requests. */
  readonly answers = new Set<ServerResponse>();
  /** Whether reading must stop (it may still have to wait for a `resume` event, see above). */
  #held = false;
  /** A resume of ours whose `resume` event is still to come. */
  #resuming = false;
  #stalled: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly stallTimeoutMs: number,
  ) {
    socket.on("drain", () => this.handOn());
    socket.on("resume", () => this.#resumed());
    socket.once("close", () => clearTimeout(this.#stalled));
  }

  /** Whether the app may take another request of this connection now. */
  roomForOne(): boolean {
    return this.active < MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION && !this.socket.writableNeedDrain;
  }

  #over(): boolean {
    return this.active + this.waiting.length > MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION || this.socket.writableNeedDrain;
  }

  #hold(): void {
    this.#held = true;
    if (!this.#resuming) this.socket.pause();
  }

  #flow(): void {
    if (!this.socket.isPaused()) return;
    this.#resuming = true;
    this.socket.resume();
  }

  #resumed(): void {
    const ours = this.#resuming;
    this.#resuming = false;
    if (this.socket.isPaused()) {
      // After a resume of ours, only Node's own brake pauses at once (and then it does not read);
      // otherwise the pause came between a resume and this event, and reading may have started.
      if (!ours) this.#flow();
      return;
    }
    if (this.#over()) this.#hold();
    else this.#held = false;
  }

  update(): void {
    if (this.#over()) this.#hold();
    else if (this.#held) {
      this.#held = false;
      this.#flow();
    }
    if (this.socket.writableNeedDrain) {
      this.#stalled ??= setTimeout(() => this.socket.destroy(), this.stallTimeoutMs).unref();
    } else if (this.#stalled) {
      clearTimeout(this.#stalled);
      this.#stalled = undefined;
    }
  }

  /** Hands waiting requests to the app, oldest first, while it has room (one whose connection is gone is skipped). */
  handOn(): void {
    while (this.waiting.length > 0 && this.roomForOne()) {
      const { req, res, serve } = this.waiting.shift()!;
      if (!res.destroyed) hand(this, req, res, serve);
    }
    this.update();
  }
}

function hand(load: ConnectionLoad, req: IncomingMessage, res: ServerResponse & { [HANDED]?: true }, serve: RequestListener): void {
  load.active++;
  res[HANDED] = true;
  serve(req, res);
}

/**
 * Watches a new connection (the server's `connection` event): see ConnectionLoad. `stallTimeoutMs`: how
 * long its answers may go unread before it is closed.
 */
export function watchConnection(socket: Socket, stallTimeoutMs: number): void {
  (socket as LoadedSocket)[LOAD] = new ConnectionLoad(socket, stallTimeoutMs);
}

/**
 * Hands a request to `serve` now, or once its connection has room (see ConnectionLoad). Every request of
 * a watched connection goes through here, whatever serves it.
 */
export function admitRequest(req: IncomingMessage, res: ServerResponse, serve: RequestListener): void {
  const load = (req.socket as LoadedSocket)[LOAD];
  if (!load) return serve(req, res);
  load.answers.add(res);
  res.once("close", answered);
  if (load.waiting.length === 0 && load.roomForOne()) hand(load, req, res, serve);
  else load.waiting.push({ req, res, serve });
  load.update();
}

/** A response's `close` (sent, or its connection gone): one function for all, no closure per request. */
function answered(this: ServerResponse & { [HANDED]?: true }): void {
  const load = (this.req.socket as LoadedSocket)[LOAD];
  load?.answers.delete(this);
  if (!load || !this[HANDED]) return;
  load.active--;
  load.handOn();
}

/**
 * The answer a watched connection is writing or is to write next: its oldest response not finished yet
 * (the one Node has attached to the socket; later ones wait for it). Undefined when it has none.
 */
export function currentAnswer(socket: Socket): ServerResponse | undefined {
  for (const res of (socket as LoadedSocket)[LOAD]?.answers ?? []) if (!res.writableFinished) return res;
  return undefined;
}
