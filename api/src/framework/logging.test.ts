import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";

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
