import assert from "node:assert/strict";

import { closeEndpoints, json, serve } from "./endpoints";
import { formatReport } from "./report";
import { runWebActivity } from "./web";

describe("ADF emulator: Web activity", () => {
  afterEach(closeEndpoints);

  it("succeeds with a 200 JSON object as the output", async () => {
    const endpoint = await serve((_seen, res) => json(res, 200, { message: "Hello World" }));
    const result = await runWebActivity({ url: `${endpoint.url}/helloworld`, body: { a: 1 } });
    assert.equal(result.status, "Succeeded");
    assert.deepEqual(result.output, { message: "Hello World" });
    assert.equal(endpoint.seen[0].method, "POST");
    assert.deepEqual(JSON.parse(endpoint.seen[0].body), { a: 1 }, "no callBackUri for the Web activity");
    assert.match(formatReport(result), /Web activity: Succeeded/);
  });

  it("GETs without a body", async () => {
    const endpoint = await serve((_seen, res) => json(res, 200, { test: "test" }));
    const result = await runWebActivity({ url: endpoint.url, method: "GET" });
    assert.equal(result.status, "Succeeded");
    assert.equal(endpoint.seen[0].method, "GET");
    assert.equal(endpoint.seen[0].body, "");
  });

  it("fails on an array, non-JSON, a non-2xx answer, or more than the size limit", async () => {
    const endpoint = await serve((seen, res) => {
      if (seen.url === "/array") return json(res, 200, [1, 2]);
      if (seen.url === "/text") return void res.writeHead(200, { "Content-Type": "text/plain" }).end("hello");
      if (seen.url === "/big") return json(res, 200, { blob: "x".repeat(2000) });
      json(res, 500, { error: "boom" });
    });
    const array = await runWebActivity({ url: `${endpoint.url}/array` });
    assert.equal(array.status, "Failed");
    assert.equal(array.error?.errorCode, "InvalidResponse");
    assert.match(array.error?.message ?? "", /not an array/);
    assert.equal((await runWebActivity({ url: `${endpoint.url}/text` })).error?.errorCode, "InvalidResponse");
    const big = await runWebActivity({ url: `${endpoint.url}/big`, maxResponseBytes: 1000 });
    assert.equal(big.error?.errorCode, "ResponseTooLarge");
    const failed = await runWebActivity({ url: `${endpoint.url}/fail` });
    assert.equal(failed.error?.errorCode, "EndpointError");
    assert.match(failed.error?.message ?? "", /500 Internal Server Error: \{"error":"boom"\}/);
  });

  it("polls a 202's Location (GET, honouring Retry-After) until an answer other than 202", async () => {
    let polls = 0;
    const endpoint = await serve((seen, res) => {
      if (seen.url === "/simulate") return json(res, 202, { jobId: "j1" }, { Location: "/jobs/j1", "Retry-After": "0" });
      polls++;
      if (polls < 3) return json(res, 202, { status: "running" }, { Location: "/jobs/j1" });
      json(res, 200, { simulated: true });
    });
    const result = await runWebActivity({ url: `${endpoint.url}/simulate`, pollIntervalMs: 20, auth: { kind: "bearer", token: "t" } });
    assert.equal(result.status, "Succeeded");
    assert.deepEqual(result.output, { simulated: true });
    assert.equal(result.polls, 3);
    assert.equal(result.endpoint?.status, 202);
    assert.equal(result.finalAnswer?.status, 200);
    assert.deepEqual(
      endpoint.seen.map((s) => `${s.method} ${s.url}`),
      ["POST /simulate", "GET /jobs/j1", "GET /jobs/j1", "GET /jobs/j1"],
    );
    assert.ok(endpoint.seen.every((s) => s.headers.authorization === "Bearer t"));
    assert.match(formatReport(result), /3 polls; final answer 200/);
  });

  it("times out when polling never ends", async () => {
    const endpoint = await serve((_seen, res) => json(res, 202, {}, { Location: "/jobs/forever" }));
    const result = await runWebActivity({ url: endpoint.url, timeoutMs: 300, pollIntervalMs: 50 });
    assert.equal(result.status, "TimedOut");
    assert.ok((result.polls ?? 0) >= 2);
  });
});
