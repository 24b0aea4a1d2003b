import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";

import { startApi, type RunningApi } from "../testing/api.js";
import { postBody as post, type JsonAnswer as Answer } from "../testing/http.js";
import { heldUpload, rawConnection } from "../testing/uploads.js";
import { within } from "../testing/time.js";

/**
 * Issue 20: bodies being uploaded were bounded by nothing (250 connections each holding back the last byte
 * of a 1 MB body took the process from about 75 MB to 355 MB of RSS), and chunked or compressed bodies
 * skipped the byte budget's check before reading. Now the bytes of bodies in flight, all connections
 * together, are bounded by MAX_BODY_BYTES_IN_FLIGHT: each request reserves its Content-Length, or the whole
 * BODY_LIMIT when the length is unknown or the body is encoded, before a byte is read, and what does not
 * fit is refused (503 busy, Retry-After) before it is read.
 */

const BODY_LIMIT = 100_000;
const IN_FLIGHT = 250_000;
// "Closed promptly", against the request timeout (30 s) a stalled connection would wait for.
const CLOSED_WITHIN_MS = 10_000;

function assertBusy(answer: Answer, what: string): void {
  assert.equal(answer.status, 503, `${what}: ${JSON.stringify(answer.body)}`);
  assert.equal(answer.body.error?.code, "busy", what);
  assert.match(answer.body.error?.message ?? "", /MAX_BODY_BYTES_IN_FLIGHT/, what);
  assert.match(String(answer.headers["retry-after"]), /^[1-9]\d*$/, what);
}

describe("reliability: bodies in flight share one byte budget", function () {
  this.timeout(30_000);
  let api: RunningApi;
  let port: number;
  before(async () => {
    api = await startApi({ BODY_LIMIT: String(BODY_LIMIT), MAX_BODY_BYTES_IN_FLIGHT: String(IN_FLIGHT), LOG_LEVEL: "warn" });
    port = Number(new URL(api.url).port);
  });
  after(() => api.close());

  const bodyOf = (bytes: number) => {
    const head = '{"output":{"a":"';
    const tail = '"}}';
    return head + "x".repeat(bytes - head.length - tail.length) + tail;
  };

  it("slow uploads hold their Content-Length; what does not fit, chunked and compressed bodies as BODY_LIMIT, is refused 503 busy before it is read", async () => {
    const held = await Promise.all([heldUpload(port, "/simulate", bodyOf(BODY_LIMIT)), heldUpload(port, "/simulate", bodyOf(BODY_LIMIT))]);
    try {
      for (const upload of held) assert.match(upload.received(), /^HTTP\/1\.1 100 Continue/, "both uploads are being read");
      // 200,000 of 250,000 bytes reserved: a small body with a known length fits...
      const small = '{"output":{"small":true}}';
      assert.equal((await post(api, "/simulate", small)).status, 200);
      // ...the same bytes chunked, or compressed, could be BODY_LIMIT once read: refused up front.
      assertBusy(await post(api, "/simulate", small, {}, true), "chunked");
      assertBusy(await post(api, "/simulate", gzipSync(small), { "content-encoding": "gzip" }), "gzip");
      // And a third full-size upload does not fit either.
      const third = await heldUpload(port, "/simulate", bodyOf(BODY_LIMIT));
      // (Node answers the Expect itself, 100 Continue, before the request reaches the app.)
      await within(third.until(/^(HTTP\/1\.1 100 Continue\r\n\r\n)?HTTP\/1\.1 503 [\s\S]*"busy"/), CLOSED_WITHIN_MS, "the refused upload's answer");
      third.socket.destroy();
    } finally {
      held.forEach((upload) => upload.finish());
    }
    // The held uploads end (their last byte) and are answered; their bytes are free again.
    for (const upload of held) {
      await upload.until(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
      upload.socket.destroy();
    }
    assert.equal((await post(api, "/simulate", '{"output":{"chunked":true}}', {}, true)).status, 200);
    assert.equal((await post(api, "/simulate", gzipSync(bodyOf(BODY_LIMIT)), { "content-encoding": "gzip" })).status, 200);
  });

  // Random text: its gzip is about as large as itself, so it cannot all be in the server's buffers at once.
  const noise = (bytes: number) => `{"output":{"a":"${randomBytes(bytes / 2).toString("hex")}"}}`;
  const compressed = gzipSync(noise(3 * BODY_LIMIT));
  for (const [what, head, body] of [
    [
      "chunked",
      "POST /simulate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
      Buffer.from(`${Buffer.byteLength(noise(3 * BODY_LIMIT)).toString(16)}\r\n${noise(3 * BODY_LIMIT)}\r\n0\r\n\r\n`),
    ],
    [
      "gzip",
      `POST /simulate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${compressed.length}\r\n\r\n`,
      compressed,
    ],
  ] as const) {
    it(`a ${what} body over BODY_LIMIT: 413, then the keep-alive connection closes (it does not stall until the request timeout)`, async () => {
      const connection = await rawConnection(port);
      try {
        connection.socket.write(head);
        connection.socket.write(body);
        // The next request on the same connection: it must not be left waiting behind the unread body.
        connection.socket.write("GET /helloworld HTTP/1.1\r\nHost: x\r\n\r\n");
        await within(connection.closed, CLOSED_WITHIN_MS, `the connection after a ${what} 413`);
        assert.match(connection.received(), /^HTTP\/1\.1 413 [\s\S]*connection: close[\s\S]*"payload_too_large"/i);
      } finally {
        connection.socket.destroy();
      }
    });
  }
});
