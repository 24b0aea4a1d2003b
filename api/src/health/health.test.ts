import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";

describe("probes", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  it("GET /healthz answers 200 while the process runs", async () => {
    const res = await fetch(`${api.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
  });

  it("GET /readyz answers 200 while serving and 503 once draining, when /healthz stays 200", async () => {
    const ready = await fetch(`${api.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ready" });

    api.drain.begin();
    const draining = await fetch(`${api.url}/readyz`);
    assert.equal(draining.status, 503);
    assert.deepEqual(await draining.json(), { status: "draining" });
    assert.equal(draining.headers.get("connection"), "close");
    assert.equal((await fetch(`${api.url}/healthz`)).status, 200);
  });
});
