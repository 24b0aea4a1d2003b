import assert from "node:assert/strict";

import { acceptsThenCallsBack, callBack, callBackUriOf, closeEndpoints, json, serve } from "./testing/endpoints.js";
import { formatReport } from "./report.js";
import { parseTimespan } from "./timespan.js";
import { runWebhookActivity } from "./webhook.js";

describe("ADF emulator: Webhook activity", () => {
  afterEach(closeEndpoints);

  it("POSTs the body plus callBackUri as ADF does, then succeeds on the callback", async () => {
    let answered!: (status: number) => void;
    const callbackAnswer = new Promise<number>((resolve) => (answered = resolve));
    const endpoint = await serve(acceptsThenCallsBack({ Output: { message: "Hello World" }, StatusCode: "200" }, 20, answered));
    const progress: string[] = [];
    const result = await runWebhookActivity({
      url: `${endpoint.url}/helloworld`,
      body: { durationMs: 5 },
      reportStatusOnCallback: true,
      auth: { kind: "basic", username: "adf", password: "secret" },
      onProgress: (line) => progress.push(line),
    });
    assert.equal(result.status, "Succeeded");
    assert.deepEqual(result.output, { message: "Hello World" });
    assert.equal(result.endpoint?.status, 202);
    assert.deepEqual(result.endpoint?.body, { jobId: "job-1", status: "accepted" });
    assert.ok(result.callback && result.callback.ms >= result.endpoint.ms);
    assert.equal(await callbackAnswer, 200, "the receiver answers the callback 200 before it closes");

    const [req] = endpoint.seen;
    assert.equal(req.method, "POST");
    assert.equal(req.url, "/helloworld");
    assert.match(req.headers["content-type"] ?? "", /^application\/json/);
    assert.equal(req.headers.authorization, `Basic ${Buffer.from("adf:secret").toString("base64")}`);
    const sent = JSON.parse(req.body) as { durationMs: number; callBackUri: string };
    assert.equal(sent.durationMs, 5);
    const uri = new URL(sent.callBackUri);
    assert.equal(uri.hostname, "127.0.0.1");
    const token = uri.pathname.split("/").pop() ?? "";
    assert.ok(token.length >= 32, "the callback path carries an unguessable token");

    // The secret token never appears in full, neither in the report nor in the progress lines.
    const report = formatReport(result);
    assert.ok(!report.includes(token) && !progress.join("\n").includes(token));
    assert.match(report, /Webhook activity: Succeeded/);
    assert.match(report, /"message": "Hello World"/);
    assert.match(report, /endpoint answered 202/);
    assert.match(report, /callback received after/);
  });

  it("without reportStatusOnCallBack the whole callback body is the output, and a bearer token is sent", async () => {
    const body = { Output: { x: 1 }, StatusCode: "500" };
    const endpoint = await serve(acceptsThenCallsBack(body));
    const result = await runWebhookActivity({ url: endpoint.url, auth: { kind: "bearer", token: "abc" } });
    assert.equal(result.status, "Succeeded");
    assert.deepEqual(result.output, body);
    assert.equal(endpoint.seen[0].headers.authorization, "Bearer abc");
    assert.deepEqual(JSON.parse(endpoint.seen[0].body), { callBackUri: JSON.parse(endpoint.seen[0].body).callBackUri });
  });

  it("fails with the callback's error when StatusCode >= 400", async () => {
    const endpoint = await serve(
      acceptsThenCallsBack({
        Output: { attempt: 1 },
        Error: { ErrorCode: "SimulatedFailure", Message: "it broke" },
        StatusCode: "500",
      }),
    );
    const result = await runWebhookActivity({ url: endpoint.url, reportStatusOnCallback: true });
    assert.equal(result.status, "Failed");
    assert.deepEqual(result.error, { errorCode: "SimulatedFailure", message: "it broke" });
    assert.deepEqual(result.output, { attempt: 1 });
    const report = formatReport(result);
    assert.ok(report.startsWith("Webhook activity: Failed\n  Error code: SimulatedFailure\n  Message:    it broke\n"), report);
  });

  it("times out when no callback comes", async () => {
    const endpoint = await serve((_seen, res) => json(res, 202, { jobId: "j", status: "accepted" }));
    const result = await runWebhookActivity({ url: endpoint.url, timeoutMs: parseTimespan("00:00:00.3") });
    assert.equal(result.status, "TimedOut");
    assert.equal(result.error?.errorCode, "ActivityTimedOut");
    assert.equal(result.callback, undefined);
    assert.ok(result.totalMs >= 290 && result.totalMs < 2000, String(result.totalMs));
    assert.match(formatReport(result), /no callback received/);
  });

  it("fails with the answer's body when the endpoint answers non-2xx", async () => {
    const endpoint = await serve((_seen, res) => json(res, 400, { error: "durationMs must be a number" }));
    const result = await runWebhookActivity({ url: endpoint.url, timeoutMs: 5000 });
    assert.equal(result.status, "Failed");
    assert.equal(result.error?.errorCode, "EndpointError");
    assert.match(result.error?.message ?? "", /400 Bad Request: \{"error":"durationMs must be a number"\}/);
    assert.equal(result.endpoint?.status, 400);
  });

  it("fails when the endpoint does not answer in time, or cannot be reached", async () => {
    const endpoint = await serve(() => undefined); // never answers
    const slow = await runWebhookActivity({ url: endpoint.url, requestTimeoutMs: 200, timeoutMs: 5000 });
    assert.equal(slow.status, "Failed");
    assert.equal(slow.error?.errorCode, "EndpointTimeout");

    const gone = await serve(() => undefined);
    await gone.close();
    const down = await runWebhookActivity({ url: gone.url, timeoutMs: 5000 });
    assert.equal(down.status, "Failed");
    assert.equal(down.error?.errorCode, "EndpointUnreachable");
    assert.match(down.error?.message ?? "", /ECONNREFUSED/);
  });

  it("completes on an empty or non-JSON callback, which the receiver answers 200 (as ADF: issue 11 point 7)", async () => {
    // The endpoint calls back as a script does: `Invoke-WebRequest -Uri $callBackUri -Method Post`, no body.
    const cases: { body?: string; contentType?: string; output: unknown }[] = [
      { output: undefined },
      { body: "", contentType: "application/json", output: undefined },
      { body: "{not json", contentType: "application/json", output: "{not json" },
      { body: "done", contentType: "text/plain", output: "done" },
    ];
    for (const { body, contentType, output } of cases) {
      for (const reportStatusOnCallback of [false, true]) {
        let answered!: (status: number) => void;
        const status = new Promise<number>((resolve) => (answered = resolve));
        const endpoint = await serve((seen, res) => {
          json(res, 202, {});
          const headers: Record<string, string> = contentType ? { "Content-Type": contentType } : {};
          void fetch(callBackUriOf(seen), { method: "POST", headers, body }).then(async (r) => {
            await r.arrayBuffer();
            answered(r.status);
          });
        });
        const result = await runWebhookActivity({ url: endpoint.url, timeoutMs: 5000, reportStatusOnCallback });
        const label = `${JSON.stringify(body)} reportStatusOnCallback=${reportStatusOnCallback}`;
        assert.equal(result.status, "Succeeded", label);
        assert.deepEqual(result.output, reportStatusOnCallback ? undefined : output, label);
        assert.equal(await status, 200, label);
      }
    }
  });

  it("reads the callback's field names in any case, from a real endpoint", async () => {
    const endpoint = await serve(
      acceptsThenCallsBack({ output: { attempt: 2 }, error: { errorCode: "lowerCase", message: "spelt in camelCase" }, statusCode: 409 }),
    );
    const result = await runWebhookActivity({ url: endpoint.url, timeoutMs: 5000, reportStatusOnCallback: true });
    assert.equal(result.status, "Failed");
    assert.deepEqual(result.error, { errorCode: "lowerCase", message: "spelt in camelCase" });
    assert.deepEqual(result.output, { attempt: 2 });
  });

  it("refuses a callback over its size limit with 413 and fails", async () => {
    let answered!: (status: number) => void;
    const status = new Promise<number>((resolve) => (answered = resolve));
    const endpoint = await serve((seen, res) => {
      json(res, 202, {});
      void callBack(callBackUriOf(seen), JSON.stringify({ Output: { blob: "x".repeat(200) } })).then(answered);
    });
    const result = await runWebhookActivity({ url: endpoint.url, timeoutMs: 5000, maxCallbackBytes: 100 });
    assert.equal(result.status, "Failed");
    assert.equal(result.error?.errorCode, "InvalidCallback");
    assert.match(result.error?.message ?? "", /larger than 100 bytes/);
    assert.equal(await status, 413);
  });

  it("sends the activity's headers, which replace the defaults; an empty value sends none", async () => {
    const endpoint = await serve(acceptsThenCallsBack({}));
    const result = await runWebhookActivity({
      url: endpoint.url,
      timeoutMs: 5000,
      headers: { "x-ms-client-request-id": "run-1", "Content-Type": "", ACCEPT: "text/plain" },
    });
    assert.equal(result.status, "Succeeded");
    const [req] = endpoint.seen;
    assert.equal(req.headers["x-ms-client-request-id"], "run-1");
    assert.equal(req.headers["content-type"], undefined, "a pipeline that forgot Content-Type");
    assert.equal(req.headers.accept, "text/plain");
    assert.ok(JSON.parse(req.body).callBackUri, "the body is still JSON with callBackUri");
  });

  it("answers 404 on any other path and 405 on other methods; accepts a callback that beats the 202", async () => {
    const answers: number[] = [];
    const endpoint = await serve(async (seen, res) => {
      const uri = callBackUriOf(seen);
      const wrong = uri.slice(0, -1) + (uri.endsWith("A") ? "B" : "A");
      answers.push(await callBack(wrong, "{}"));
      answers.push((await fetch(new URL("/", uri))).status);
      const get = await fetch(uri);
      answers.push(get.status);
      await get.arrayBuffer();
      answers.push(await callBack(uri, JSON.stringify({ StatusCode: 200, Output: { early: true } })));
      json(res, 202, {});
    });
    const result = await runWebhookActivity({ url: endpoint.url, timeoutMs: 5000, reportStatusOnCallback: true });
    assert.deepEqual(answers, [404, 404, 405, 200]);
    assert.equal(result.status, "Succeeded");
    assert.deepEqual(result.output, { early: true });
  });

  it("can be cancelled", async () => {
    const endpoint = await serve((_seen, res) => json(res, 202, {}));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await runWebhookActivity({ url: endpoint.url, timeoutMs: 5000, signal: controller.signal });
    assert.equal(result.status, "Cancelled");
  });
});
