import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";
import { createLogger } from "./logging.js";

describe("the error serializer every log line uses", () => {
  function capture() {
    const lines: string[] = [];
    const logger = createLogger("trace", { write: (line: string) => void lines.push(line) });
    return { logger, lines };
  }
  const raw = Buffer.from("POST / HTTP/1.1\r\nAuthorization: Basic c2VjcmV0\r\n\r\n");
  const parserError = () => Object.assign(new Error("Parse Error: Invalid character in chunk size"), { code: "HPE_INVALID_CHUNK_SIZE", rawPacket: raw, bytesParsed: 10 });

  it("logs an error with a code by its type and code only, under err, error, any other key, or as the object", () => {
    const { logger, lines } = capture();
    logger.warn({ err: parserError() }, "a");
    logger.warn({ error: parserError() }, "b");
    logger.warn({ failure: parserError(), other: 1 }, "c");
    logger.warn(parserError());
    logger.child({ reqId: "r" }).error({ err: parserError() }, "d");
    assert.equal(lines.length, 5);
    for (const line of lines) {
      assert.ok(!line.includes("rawPacket") && !line.includes("c2VjcmV0") && !line.includes("Authorization"), line);
      assert.match(line, /\{"type":"Error","code":"HPE_INVALID_CHUNK_SIZE"\}/);
    }
  });

  it("keeps an error's message, stack and cause, but no other property", () => {
    const { logger, lines } = capture();
    const error = Object.assign(new Error("job broke", { cause: parserError() }), { body: "secret-body" });
    logger.error({ err: error }, "x");
    const { err } = JSON.parse(lines[0]!) as { err: Record<string, unknown> };
    assert.equal(err.type, "Error");
    assert.equal(err.message, "job broke");
    assert.match(String(err.stack), /job broke/);
    assert.deepEqual(err.cause, { type: "Error", code: "HPE_INVALID_CHUNK_SIZE" });
    assert.equal(err.body, undefined);
  });

  it("logs a thrown non-Error by its type (and a string's text, shortened)", () => {
    const { logger, lines } = capture();
    logger.error({ err: { rawPacket: [1, 2, 3] } }, "x");
    logger.error({ err: "s".repeat(5_000) }, "y");
    assert.deepEqual(JSON.parse(lines[0]!).err, { type: "object" });
    assert.equal((JSON.parse(lines[1]!) as { err: { message: string } }).err.message.length, 2_000);
  });
});

describe("request logging", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ LOG_LEVEL: "info" });
  });
  after(() => api.close());

  const requestLines = () => api.logs.filter((line) => line.msg === "request");

  it("logs one line per request with method, route, status, duration and request id", async () => {
    const res = await fetch(`${api.url}/helloworld`);
    const id = res.headers.get("x-request-id");
    assert.ok(id, "every answer carries a request id");
    const line = requestLines().find((l) => l.reqId === id);
    assert.ok(line);
    assert.equal(line.method, "GET");
    assert.equal(line.route, "/helloworld");
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, "number");
    assert.equal(line.level, "info");
  });

  it("keeps a sane x-request-id and replaces anything else", async () => {
    const kept = await fetch(`${api.url}/test`, { headers: { "x-request-id": "adf-run-42.a:b" } });
    assert.equal(kept.headers.get("x-request-id"), "adf-run-42.a:b");
    const replaced = await fetch(`${api.url}/test`, { headers: { "x-request-id": "bad id\twith spaces" } });
    assert.match(replaced.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    const tooLong = await fetch(`${api.url}/test`, { headers: { "x-request-id": "a".repeat(200) } });
    assert.match(tooLong.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
  });

  it("labels unknown routes as unmatched, not by their raw path", async () => {
    const res = await fetch(`${api.url}/some/random/path`);
    const line = requestLines().find((l) => l.reqId === res.headers.get("x-request-id"));
    assert.equal(line?.route, "unmatched");
  });

  it("does not log probes or metrics scrapes at info", async () => {
    const before = requestLines().length;
    await fetch(`${api.url}/healthz`);
    await fetch(`${api.url}/readyz`);
    await fetch(`${api.metricsUrl}/metrics`);
    assert.equal(requestLines().length, before);
  });
});
