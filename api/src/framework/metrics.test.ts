import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";

describe("GET /metrics", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it("serves Prometheus text with request counts and durations by route and status, and process metrics", async () => {
    await fetch(`${api.url}/helloworld`);
    await fetch(`${api.url}/nope`);
    const res = await fetch(`${api.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /http_request_duration_seconds_count\{method="GET",route="\/helloworld",status="200"\} 1/);
    assert.match(text, /http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/);
    assert.match(text, /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/helloworld",status="200"\}/);
    assert.match(text, /process_resident_memory_bytes/);
    assert.match(text, /jobs_total|callback_attempts_total/);
  });
});
