import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { MAX_TIMER_MS } from "./activity.js";
import { formatReport } from "./report.js";
import { runCli } from "./testing/cli.js";
import { closeEndpoints, json, rawAnswer, serve, serveRaw } from "./testing/endpoints.js";
import { localTls } from "./testing/tls.js";
import { DEFAULT_POLL_INTERVAL_MS, pollWait, responseHeaders, runWebActivity } from "./web.js";

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
      pollIntervalMs: 20,
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
    const poll = await runWebActivity({ url: slowPoll.url, requestTimeoutMs: 150, timeoutMs: 5000, pollIntervalMs: 20 });
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

  // Issue 25 item 6: a Location on another origin was polled with the caller's Authorization.
  it("sends credentials to the activity's origin only: once a Location leaves it, the polls carry none", async () => {
    const other = await serve((seen, res) => {
      if (seen.url === "/status") return json(res, 202, { status: "running" }, { Location: `${first.url}/back` });
      json(res, 200, {});
    });
    const first = await serve((seen, res) => {
      if (seen.method === "POST") return json(res, 202, {}, { Location: "/same" });
      if (seen.url === "/same") return json(res, 202, {}, { Location: `${other.url}/status` });
      json(res, 200, { done: true });
    });
    const progress: string[] = [];
    const result = await runWebActivity({
      url: first.url,
      auth: { kind: "bearer", token: "secret-token" },
      headers: { Cookie: "session=s1", "X-Api-Key": "k1", "Accept-Language": "en-us" },
      pollIntervalMs: 10,
      onProgress: (line) => progress.push(line),
    });
    assert.equal(result.status, "Succeeded", JSON.stringify(result.error));
    assert.deepEqual(
      first.seen.map((s) => `${s.method} ${s.url} ${s.headers.authorization ?? "-"} ${s.headers.cookie ?? "-"} ${s.headers["x-api-key"] ?? "-"}`),
      [
        "POST / Bearer secret-token session=s1 k1",
        "GET /same Bearer secret-token session=s1 k1",
        // Back on the activity's origin after a detour: the credentials stay dropped, as fetch does.
        "GET /back - - -",
      ],
    );
    const [poll] = other.seen;
    assert.equal(poll.headers.authorization, undefined);
    assert.equal(poll.headers.cookie, undefined);
    assert.equal(poll.headers["x-api-key"], undefined);
    assert.equal(poll.headers["accept-language"], "en-us", "a header that carries no credential still goes");
    assert.equal(poll.headers.accept, "application/json");
    assert.ok(progress.some((line) => line.includes(`is on another origin than ${first.url}`)), progress.join("\n"));
  });

  it("sends no credentials from https to http, the command line run as people run it", async function () {
    this.timeout(30_000);
    const tls = await localTls();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "adf-emulator-ca-"));
    try {
      const caFile = path.join(dir, "ca.pem");
      fs.writeFileSync(caFile, tls.ca);
      const plain = await serve((_seen, res) => json(res, 200, { done: true }));
      const secure = await serve((_seen, res) => json(res, 202, {}, { Location: `${plain.url}/status`, "Retry-After": "0" }), tls);
      const run = await runCli([secure.url, "--web", "--basic", "adf:pa55"], { NODE_EXTRA_CA_CERTS: caFile });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.equal(secure.seen[0].headers.authorization, `Basic ${Buffer.from("adf:pa55").toString("base64")}`, "the https call has them");
      assert.equal(plain.seen[0].headers.authorization, undefined, "the http poll has none");
      assert.match(run.stderr, /is on another origin than https:\/\/127\.0\.0\.1/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // Issue 25 item 8: `Retry-After: 0` and a Location naming itself made about 2,800 polls in 5 s.
  it("waits at least the poll interval between polls, whatever Retry-After says (1 s by default)", async () => {
    assert.equal(DEFAULT_POLL_INTERVAL_MS, 1000);
    assert.equal(pollWait(0), 1000);
    assert.equal(pollWait(undefined), 1000);
    assert.equal(pollWait(250), 1000);
    assert.equal(pollWait(2500), 2500, "Retry-After may lengthen the wait");
    assert.equal(pollWait(0, 50), 50);
    assert.equal(pollWait(Infinity), MAX_TIMER_MS, "never longer than a timer holds (a longer one fires at once)");

    const self = await serve((_seen, res) => json(res, 202, {}, { Location: "/self", "Retry-After": "0" }));
    const result = await runWebActivity({ url: `${self.url}/self`, timeoutMs: 1000, pollIntervalMs: 100 });
    assert.equal(result.status, "TimedOut");
    // Ten waits of 100 ms fill the whole 1,000 ms: more polls would mean a shorter wait.
    assert.ok((result.polls ?? 0) <= 10, `${result.polls} polls in 1 s`);
  });

  it("keeps to the deadline when Retry-After asks for more than a timer holds", async () => {
    const self = await serve((_seen, res) => json(res, 202, {}, { Location: "/self", "Retry-After": "99999999999" }));
    const result = await runWebActivity({ url: `${self.url}/self`, timeoutMs: 300, pollIntervalMs: 10 });
    assert.equal(result.status, "TimedOut");
    assert.equal(result.polls, 0);
    assert.equal(self.seen.length, 1);
  });

  it("leaves no wait behind: the command exits once the activity times out, though Retry-After asked for an hour", async function () {
    this.timeout(30_000);
    const slow = await serve((_seen, res) => json(res, 202, {}, { Location: "/self", "Retry-After": "3600" }));
    const run = await runCli([slow.url, "--web", "--timeout", "00:00:01"]);
    assert.equal(run.code, 2, run.stdout + run.stderr);
    assert.match(run.stdout, /Web activity: TimedOut/);
  });

  it("fails with TooManyPolls after maxPolls polls (10,000 by default)", async () => {
    const self = await serve((_seen, res) => json(res, 202, {}, { Location: "/self" }));
    const result = await runWebActivity({ url: `${self.url}/self`, timeoutMs: 10_000, pollIntervalMs: 1, maxPolls: 3 });
    assert.equal(result.status, "Failed");
    assert.equal(result.error?.errorCode, "TooManyPolls");
    assert.equal(result.polls, 3);
    assert.equal(self.seen.length, 4, "the call and three polls");
  });

  it("polls only http and https Locations", async () => {
    const endpoint = await serve((_seen, res) => json(res, 202, {}, { Location: "file:///etc/passwd" }));
    const result = await runWebActivity({ url: endpoint.url, pollIntervalMs: 1 });
    assert.equal(result.error?.errorCode, "InvalidResponse");
    assert.equal(result.polls, 0);
  });

  it("an activity timeout longer than a timer holds (24.8 days) is not reached at once", async () => {
    const endpoint = await serve((_seen, res) => void setTimeout(() => json(res, 200, { ok: true }), 50));
    const result = await runWebActivity({ url: endpoint.url, timeoutMs: 30 * 24 * 3_600_000 });
    assert.equal(result.status, "Succeeded", JSON.stringify(result.error));
  });

  // Issue 25 item 8: a header named `constructor` printed as a function's source; `__proto__` was dropped.
  it("keeps headers named like Object's properties as headers", async () => {
    assert.deepEqual(Object.entries(responseHeaders(["constructor", "x", "__proto__", "y", "toString", "z"])), [
      ["constructor", "x"],
      ["__proto__", "y"],
      ["toString", "z"],
    ]);
    const endpoint = await serveRaw(() =>
      rawAnswer("HTTP/1.1 200 OK", ["constructor: x", "__proto__: y", "hasOwnProperty: z", "Content-Type: application/json"], "{}"),
    );
    const result = await runWebActivity({ url: endpoint.url });
    const headers = (result.output as { ADFWebActivityResponseHeaders: Record<string, string> }).ADFWebActivityResponseHeaders;
    assert.equal(Object.getOwnPropertyDescriptor(headers, "constructor")?.value, "x");
    assert.equal(Object.getOwnPropertyDescriptor(headers, "__proto__")?.value, "y");
    assert.equal(Object.getOwnPropertyDescriptor(headers, "hasOwnProperty")?.value, "z");
    const report = formatReport(result);
    assert.match(report, /"constructor": "x"/);
    assert.match(report, /"__proto__": "y"/);
    assert.doesNotMatch(report, /native code/);
  });
});
