import assert from "node:assert/strict";

import { closeEndpoints, json, serve } from "./endpoints.js";
import { formatReport } from "./report.js";
import { responseHeaders, runWebActivity } from "./web.js";

describe("ADF emulator: Web activity", () => {
  afterEach(closeEndpoints);

  it("succeeds with a 200 JSON object as the output", async () => {
    const endpoint = await serve((_seen, res) => json(res, 200, { message: "Hello World" }));
    const result = await runWebActivity({ url: `${endpoint.url}/helloworld`, body: { a: 1 } });
    assert.equal(result.status, "Succeeded");
    const { ADFWebActivityResponseHeaders: headers, ...output } = result.output as Record<string, unknown>;
    assert.deepEqual(output, { message: "Hello World" });
    assert.equal((headers as Record<string, string>)["Content-Type"], "application/json");
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
    const { ADFWebActivityResponseHeaders: headers, ...output } = result.output as Record<string, unknown>;
    assert.deepEqual(output, { simulated: true });
    assert.ok(!("Location" in (headers as Record<string, string>)), "the headers are the final answer's");
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

  it("sends PATCH, PUT and POST with a body, DELETE with one only when given, GET without", async () => {
    const endpoint = await serve((_seen, res) => json(res, 200, {}));
    for (const method of ["PATCH", "PUT", "POST"] as const) {
      assert.equal((await runWebActivity({ url: endpoint.url, method, body: { m: method } })).status, "Succeeded");
    }
    await runWebActivity({ url: endpoint.url, method: "PATCH" });
    await runWebActivity({ url: endpoint.url, method: "DELETE" });
    await runWebActivity({ url: endpoint.url, method: "DELETE", body: { why: "done" } });
    assert.deepEqual(
      endpoint.seen.map((s) => `${s.method} ${s.body} ${s.headers["content-type"] ?? "-"}`),
      [
        'PATCH {"m":"PATCH"} application/json',
        'PUT {"m":"PUT"} application/json',
        'POST {"m":"POST"} application/json',
        "PATCH {} application/json",
        "DELETE  -",
        'DELETE {"why":"done"} application/json',
      ],
    );
  });

  it("sends the activity's headers on the call and its polls, replacing the defaults", async () => {
    const endpoint = await serve((seen, res) => {
      if (seen.method === "PUT") return json(res, 202, {}, { Location: "/status", "Retry-After": "0" });
      json(res, 200, { done: true });
    });
    const result = await runWebActivity({
      url: endpoint.url,
      method: "PUT",
      headers: { "Accept-Language": "en-us", "Content-Type": "application/merge-patch+json" },
      auth: { kind: "basic", username: "adf", password: "pw" },
    });
    assert.equal(result.status, "Succeeded");
    const [call, poll] = endpoint.seen;
    assert.equal(call.headers["accept-language"], "en-us");
    assert.equal(call.headers["content-type"], "application/merge-patch+json");
    assert.equal(poll.method, "GET");
    assert.equal(poll.headers["accept-language"], "en-us");
    assert.equal(poll.headers["content-type"], undefined, "a poll has no body");
    assert.equal(poll.headers.authorization, call.headers.authorization);
  });

  it("gives the endpoint httpRequestTimeout to answer each request, the call and every poll", async () => {
    const slow = await serve(() => undefined); // never answers
    const call = await runWebActivity({ url: slow.url, requestTimeoutMs: 150, timeoutMs: 5000 });
    assert.equal(call.status, "Failed");
    assert.equal(call.error?.errorCode, "EndpointTimeout");
    assert.match(call.error?.message ?? "", /did not answer within 150 ms/);

    const slowPoll = await serve((seen, res) => {
      if (seen.method === "POST") json(res, 202, {}, { Location: "/status", "Retry-After": "0" });
    });
    const poll = await runWebActivity({ url: slowPoll.url, requestTimeoutMs: 150, timeoutMs: 5000 });
    assert.equal(poll.error?.errorCode, "EndpointTimeout");
    assert.equal(poll.polls, 1);
  });

  it("with turnOffAsync, a 202 is the final answer: its body and headers are the output, Location is not polled", async () => {
    const endpoint = await serve((_seen, res) => json(res, 202, { jobId: "j1" }, { Location: "/jobs/j1", "Operation-Location": "/ops/1" }));
    const result = await runWebActivity({ url: endpoint.url, turnOffAsync: true });
    assert.equal(result.status, "Succeeded");
    assert.equal(result.polls, 0);
    assert.equal(endpoint.seen.length, 1);
    const output = result.output as { jobId: string; ADFWebActivityResponseHeaders: Record<string, string> };
    assert.equal(output.jobId, "j1");
    assert.equal(output.ADFWebActivityResponseHeaders.Location, "/jobs/j1");
    assert.equal(output.ADFWebActivityResponseHeaders["Operation-Location"], "/ops/1");
  });

  it("an empty 2xx answer succeeds with an empty Response; a 202 without Location is not polled", async () => {
    const endpoint = await serve((_seen, res) => void res.writeHead(202, { "Operation-Location": "/ops/2" }).end());
    const result = await runWebActivity({ url: endpoint.url });
    assert.equal(result.status, "Succeeded");
    const { Response, ADFWebActivityResponseHeaders: headers, ...rest } = result.output as {
      Response: string;
      ADFWebActivityResponseHeaders: Record<string, string>;
    };
    assert.equal(Response, "");
    assert.deepEqual(rest, {});
    assert.equal(endpoint.seen.length, 1);
    assert.equal(headers["Operation-Location"], "/ops/2");
    assert.ok("Date" in headers && "Connection" in headers, "every header, as sent");
  });

  it("ADFWebActivityResponseHeaders keeps each header's own spelling and joins repeated ones", async () => {
    const endpoint = await serve((_seen, res) => {
      res.setHeader("x-ms-request-id", "r1");
      res.setHeader("X-Multi", ["a", "b"]);
      json(res, 200, { ok: true });
    });
    const result = await runWebActivity({ url: endpoint.url });
    const headers = (result.output as { ADFWebActivityResponseHeaders: Record<string, string> }).ADFWebActivityResponseHeaders;
    assert.equal(headers["x-ms-request-id"], "r1");
    assert.equal(headers["X-Multi"], "a, b");
    assert.equal(headers["Content-Type"], "application/json");
    assert.deepEqual(responseHeaders(["Vary", "Accept", "vary", "Origin"]), { Vary: "Accept, Origin" });
  });
});
