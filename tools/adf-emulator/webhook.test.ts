import assert from "node:assert/strict";

import { acceptsThenCallsBack, callBack, callBackUriOf, closeEndpoints, json, serve } from "./endpoints";
import { formatReport } from "./report";
import { parseTimespan } from "./timespan";
import { runWebhookActivity } from "./webhook";

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

  it("fails on a malformed callback body, which the receiver answers 400", async () => {
    let answered!: (status: number) => void;
    const status = new Promise<number>((resolve) => (answered = resolve));
    const endpoint = await serve((seen, res) => {
      json(res, 202, {});
      setTimeout(() => void callBack(callBackUriOf(seen), "{not json").then(answered), 10);
    });
    const result = await runWebhookActivity({ url: endpoint.url, timeoutMs: 5000, reportStatusOnCallback: true });
    assert.equal(result.status, "Failed");
    assert.equal(result.error?.errorCode, "InvalidCallback");
    assert.match(result.error?.message ?? "", /not JSON/);
    assert.equal(await status, 400);
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
