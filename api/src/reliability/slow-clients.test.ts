import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";
import { within } from "../testing/time.js";
import { slowSocket } from "../testing/uploads.js";

/**
 * Slowloris-style clients cannot pin the server: with short timeouts, sockets that dribble headers or
 * bodies, or sit idle, are answered 408 or closed, while other clients are served all along.
 */

const TIMEOUTS = { headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 1000 };
// A generous bound for "the server closed it": Node checks the timeouts every headersTimeoutMs.
const CLOSED_WITHIN_MS = 5_000;

/** 408 or nothing at all: a server may close a timed-out socket without a word. */
function assertTimedOutAnswer(received: string, what: string) {
  if (received === "") return;
  assert.match(received, /^HTTP\/1\.1 408 /, `${what}: ${received.slice(0, 100)}`);
}

describe("reliability: slow clients cannot pin the server", function () {
  this.timeout(20_000);
  let api: RunningApi;
  let port: number;
  before(async () => {
    api = await startApi({ LOG_LEVEL: "warn" }, { timeouts: TIMEOUTS });
    port = Number(new URL(api.url).port);
  });
  after(() => api.close());

  /**
   * Keeps fetching /helloworld until `done` settles; every answer must be a 200. Returns how many were
   * answered while the slow sockets were still open (the first fetch always starts before `done`
   * settles, so counting fetches would be at least 1 whatever the server did).
   */
  async function serveMeanwhile(done: Promise<unknown>): Promise<number> {
    let finished = false;
    void done.finally(() => (finished = true)).catch(() => {});
    let servedWhileOpen = 0;
    while (!finished) {
      const res = await fetch(`${api.url}/helloworld`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { message: "Hello World" });
      if (!finished) servedWhileOpen++;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return servedWhileOpen;
  }

  it("headers sent byte by byte: the sockets are closed (408) and others are served meanwhile", async () => {
    const sockets = await Promise.all(
      Array.from({ length: 30 }, () => slowSocket(port, "GET /helloworld HTTP/1.1\r\nHost: x\r\n", "X-Slow: aaaaaaaaaaaaaaaaaaaa\r\n", 50)),
    );
    try {
      const allClosed = within(Promise.all(sockets.map((s) => s.closed)), CLOSED_WITHIN_MS, "a slow-header socket");
      const served = await serveMeanwhile(allClosed);
      await allClosed;
      assert.ok(served > 0, "other clients were served while the slow ones were connected");
      sockets.forEach((s, i) => assertTimedOutAnswer(s.received(), `socket ${i}`));
    } finally {
      sockets.forEach((s) => s.stop());
    }
  });

  it("connected but silent: closed after the headers timeout", async () => {
    const sockets = await Promise.all(Array.from({ length: 20 }, () => slowSocket(port, "", "", 1_000_000)));
    try {
      const allClosed = within(Promise.all(sockets.map((s) => s.closed)), CLOSED_WITHIN_MS, "a silent socket");
      await serveMeanwhile(allClosed);
      await allClosed;
    } finally {
      sockets.forEach((s) => s.stop());
    }
  });

  it("a body sent byte by byte: cut at the request timeout, others served meanwhile", async () => {
    const head = "POST /simulate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n";
    const sockets = await Promise.all(Array.from({ length: 20 }, () => slowSocket(port, `${head}{"output":{"a":"`, "x", 50)));
    try {
      const allClosed = within(Promise.all(sockets.map((s) => s.closed)), CLOSED_WITHIN_MS, "a slow-body socket");
      const served = await serveMeanwhile(allClosed);
      await allClosed;
      assert.ok(served > 0);
      for (const [i, s] of sockets.entries()) {
        // Node answers 408 itself; if the app saw the aborted body first, nothing is written at all.
        const text = s.received();
        if (text !== "") assert.match(text, /^HTTP\/1\.1 (408|400) /, `socket ${i}: ${text.slice(0, 100)}`);
      }
    } finally {
      sockets.forEach((s) => s.stop());
    }
  });

  it("a body that stops half-way: cut at the request timeout", async () => {
    const head = "POST /helloworld HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    const sockets = await Promise.all(Array.from({ length: 10 }, () => slowSocket(port, head, "", 1_000_000)));
    try {
      const allClosed = within(Promise.all(sockets.map((s) => s.closed)), CLOSED_WITHIN_MS, "a stalled-body socket");
      await serveMeanwhile(allClosed);
      await allClosed;
    } finally {
      sockets.forEach((s) => s.stop());
    }
  });

  it("idle keep-alive connections are closed after the keep-alive timeout", async () => {
    const sockets = await Promise.all(Array.from({ length: 10 }, () => slowSocket(port, "GET /helloworld HTTP/1.1\r\nHost: x\r\n\r\n", "", 1_000_000)));
    try {
      const allClosed = within(Promise.all(sockets.map((s) => s.closed)), CLOSED_WITHIN_MS, "an idle keep-alive socket");
      await serveMeanwhile(allClosed);
      await allClosed;
      for (const s of sockets) assert.match(s.received(), /^HTTP\/1\.1 200 [\s\S]*"Hello World"/);
    } finally {
      sockets.forEach((s) => s.stop());
    }
  });

  it("malformed HTTP gets a 400 and the connection is closed; the server keeps serving", async () => {
    for (const garbage of ["GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /helloworld HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", "\x00\x01\x02\r\n\r\n"]) {
      const s = await slowSocket(port, garbage, "", 1_000_000);
      await within(s.closed, CLOSED_WITHIN_MS, `a socket that sent ${JSON.stringify(garbage)}`);
      assert.match(s.received(), /^HTTP\/1\.1 (400|505) /, JSON.stringify(garbage));
    }
    const res = await fetch(`${api.url}/healthz`);
    assert.equal(res.status, 200);
  });
});
