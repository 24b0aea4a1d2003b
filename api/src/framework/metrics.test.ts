import assert from "node:assert/strict";
import { request } from "node:http";

import { startApi, type RunningApi } from "../testing/api.js";

describe("GET /metrics on the metrics port (METRICS_PORT)", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it("serves Prometheus text with request counts and durations by route and status, and process metrics", async () => {
    await fetch(`${api.url}/helloworld`);
    await fetch(`${api.url}/nope`);
    const res = await fetch(`${api.metricsUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /http_request_duration_seconds_count\{method="GET",route="\/helloworld",status="200"\} 1/);
    assert.match(text, /http_request_duration_seconds_count\{method="GET",route="unmatched",status="404"\} 1/);
    assert.match(text, /http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/helloworld",status="200"\}/);
    assert.match(text, /process_resident_memory_bytes/);
    assert.match(text, /jobs_total|callback_attempts_total/);
  });

  it("is not served on the job port (a public entry reaches only that one): 404 there", async () => {
    const res = await fetch(`${api.url}/metrics`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "not_found");
  });

  it("the metrics port serves nothing else: the job routes and probes 404 there, other methods 405", async () => {
    for (const path of ["/helloworld", "/healthz", "/"]) {
      const res = await fetch(`${api.metricsUrl}${path}`);
      assert.equal(res.status, 404, path);
      await res.arrayBuffer();
    }
    const post = await fetch(`${api.metricsUrl}/metrics`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(((await post.json()) as { error: { code: string } }).error.code, "method_not_allowed");
  });

  it("keeps status labels bounded: a job's arbitrary 4xx/5xx is counted under its class, known statuses exactly", async () => {
    for (let statusCode = 400; statusCode <= 599; statusCode++) {
      // node:http, not fetch: fetch turns a 407 into a network error.
      const status = await new Promise<number | undefined>((resolve, reject) => {
        const req = request(`${api.url}/simulate`, { method: "POST", headers: { "content-type": "application/json" } }, (res) => {
          res.resume().once("end", () => resolve(res.statusCode));
        });
        req.once("error", reject).end(JSON.stringify({ fail: true, statusCode }));
      });
      assert.equal(status, statusCode);
    }
    const text = await (await fetch(`${api.metricsUrl}/metrics`)).text();
    const statuses = new Set([...text.matchAll(/http_request_duration_seconds_count\{method="POST",route="\/simulate",status="([^"]+)"\}/g)].map((m) => m[1]));
    assert.ok(statuses.size <= 20, `${statuses.size} label values: ${[...statuses].join(", ")}`);
    for (const kept of ["400", "404", "500", "503", "504", "4xx", "5xx"]) assert.ok(statuses.has(kept), `status="${kept}"`);
    // Nothing lost: the 200 requests are all counted.
    const counts = [...text.matchAll(/http_request_duration_seconds_count\{method="POST",route="\/simulate",status="[^"]+"\} (\d+)/g)];
    assert.equal(counts.reduce((sum, m) => sum + Number(m[1]), 0), 200);
  });
});
