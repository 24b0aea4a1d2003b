/**
 * The ADF contract is written twice: once in the API (api/src/webhook) and once in this emulator.
 * These tests run the emulator's Webhook and Web activities against the real API on 127.0.0.1, so
 * the two cannot drift apart: success, failure with reportStatusOnCallBack, timeouts, and auth
 * (Basic, and Entra ID with real signed tokens).
 */
import assert from "node:assert/strict";

import type { RunningApi } from "../../api/src/testing/api.js";
import type { TokenIssuer } from "../../api/src/testing/tokens.js";
import { runMain } from "./testing/cli.js";
import { freePort } from "./testing/endpoints.js";
import { runWebActivity } from "./web.js";
import { runWebhookActivity } from "./webhook.js";

// The API is an ES module package; this CommonJS test loads its test helpers with import().
const loadApi = () => import("../../api/src/testing/api.js");
const loadTokens = () => import("../../api/src/testing/tokens.js");
const loadProcess = () => import("../../api/src/testing/process.js");

/** The emulator's receiver is http://127.0.0.1: the API may call it back only in this local-testing mode. */
const LOCAL = { CALLBACK_ALLOW_INSECURE: "true" };
const JOB_TIMEOUT_MS = 3000;

describe("ADF emulator against the real API", function () {
  this.timeout(15_000);
  const apis: RunningApi[] = [];
  async function start(env: Record<string, string>): Promise<RunningApi> {
    const api = await (await loadApi()).startApi({ LOG_LEVEL: "warn", ...LOCAL, ...env });
    apis.push(api);
    return api;
  }
  after(async () => {
    await Promise.all(apis.splice(0).map((api) => api.close()));
  });

  it("a rehearsal with CALLBACK_TEST_RECEIVER: the receiver at a chosen address and port, called back without CALLBACK_ALLOW_INSECURE", async () => {
    const port = await freePort();
    // In a local cluster this is the address the pods reach (a private one); here, 127.0.0.1.
    const api = await (await loadApi()).startApi({ LOG_LEVEL: "warn", CALLBACK_TEST_RECEIVER: `http://127.0.0.1:${port}` });
    apis.push(api);
    const result = await runWebhookActivity({
      url: `${api.url}/simulate`,
      body: { output: { rehearsed: true } },
      reportStatusOnCallback: true,
      timeoutMs: 10_000,
      receiver: { listenHost: "127.0.0.1", listenPort: port, host: "127.0.0.1" },
    });
    assert.equal(result.status, "Succeeded", JSON.stringify(result.error));
    assert.deepEqual(result.output, { rehearsed: true });
    assert.match(result.callBackUri ?? "", new RegExp(`^http://127\\.0\\.0\\.1:${port}/callback/`));
    // Any other port is refused by the API: exactly that origin, nothing wider.
    const other = await runWebhookActivity({ url: `${api.url}/simulate`, body: {}, timeoutMs: 10_000 });
    assert.equal(other.status, "Failed");
    assert.match(JSON.stringify(other.error), /invalid_callback_uri/);
  });

  describe("no authentication", () => {
    let api: RunningApi;
    before(async () => {
      // One callback attempt: the timeout test's job calls back a receiver that has closed.
      api = await start({ JOB_TIMEOUT_MS: String(JOB_TIMEOUT_MS), CALLBACK_MAX_ATTEMPTS: "1" });
    });

    it("Webhook: the job's output is the activity's output; the receipt is the endpoint's answer", async () => {
      const result = await runWebhookActivity({
        url: `${api.url}/simulate`,
        body: { durationMs: 20, output: { rows: 3 } },
        reportStatusOnCallback: true,
        timeoutMs: 10_000,
      });
      assert.equal(result.status, "Succeeded", JSON.stringify(result.error));
      assert.deepEqual(result.output, { rows: 3 });
      assert.equal(result.endpoint?.status, 202);
      assert.deepEqual(Object.keys(result.endpoint?.body as object).sort(), ["job", "jobId", "status"]);

      // Without reportStatusOnCallBack ADF shows the whole callback body.
      const whole = await runWebhookActivity({ url: `${api.url}/simulate`, body: { output: { rows: 3 } }, timeoutMs: 10_000 });
      assert.deepEqual(whole.output, { Output: { rows: 3 }, StatusCode: "200" });
    });

    it("Webhook with reportStatusOnCallBack: a failed job fails the activity with its code, message and output", async () => {
      const result = await runWebhookActivity({
        url: `${api.url}/simulate`,
        body: { fail: true, statusCode: 503, errorCode: "UpstreamDown", message: "the warehouse is down", output: { attempt: 1 } },
        reportStatusOnCallback: true,
        timeoutMs: 10_000,
      });
      assert.equal(result.status, "Failed");
      assert.deepEqual(result.error, { errorCode: "UpstreamDown", message: "the warehouse is down" });
      assert.deepEqual(result.output, { attempt: 1 });
      assert.equal((result.callback?.body as { StatusCode: unknown }).StatusCode, "503");

      // Without it, ADF marks the same callback Succeeded: why the sample pipeline sets the flag.
      const unread = await runWebhookActivity({ url: `${api.url}/simulate`, body: { fail: true }, timeoutMs: 10_000 });
      assert.equal(unread.status, "Succeeded");
    });

    it("Webhook: a job that outlives JOB_TIMEOUT_MS fails the activity as JobTimedOut", async () => {
      const result = await runWebhookActivity({
        url: `${api.url}/simulate`,
        body: { durationMs: 60_000 },
        reportStatusOnCallback: true,
        timeoutMs: 10_000,
      });
      assert.equal(result.status, "Failed");
      assert.equal(result.error?.errorCode, "JobTimedOut");
      assert.equal((result.callback?.body as { StatusCode: unknown }).StatusCode, "504");
    });

    it("Webhook: an activity timeout shorter than the job is TimedOut in ADF", async () => {
      // Wide margins, so a busy machine cannot turn it around: 202 well within 1 s, the callback not before 2.5 s.
      const result = await runWebhookActivity({ url: `${api.url}/simulate`, body: { durationMs: JOB_TIMEOUT_MS - 500 }, timeoutMs: 1000 });
      assert.equal(result.status, "TimedOut");
      assert.equal(result.error?.errorCode, "ActivityTimedOut");
      assert.equal(result.endpoint?.status, 202, "the API accepted the job before the activity gave up");
    });

    it("Webhook: input the job refuses fails the activity at once with the API's JSON error", async () => {
      const result = await runWebhookActivity({ url: `${api.url}/simulate`, body: { durationMs: "soon" }, timeoutMs: 10_000 });
      assert.equal(result.status, "Failed");
      assert.equal(result.error?.errorCode, "EndpointError");
      assert.match(result.error?.message ?? "", /^The endpoint answered 400 Bad Request: \{"error":\{"code":"invalid_input"/);
      assert.equal(result.callback, undefined);
    });

    it("Web: the job's output plus the answer's headers; a failed job fails the activity with the API's error", async () => {
      const ok = await runWebActivity({ url: `${api.url}/simulate`, body: { output: { rows: 3 } } });
      assert.equal(ok.status, "Succeeded", JSON.stringify(ok.error));
      const { ADFWebActivityResponseHeaders: headers, ...output } = ok.output as Record<string, unknown>;
      assert.deepEqual(output, { rows: 3 });
      assert.match((headers as Record<string, string>)["x-request-id"] ?? "", /\S/, "the API's request id reaches the pipeline");

      const hello = await runWebActivity({ url: `${api.url}/helloworld`, method: "GET" });
      assert.equal((hello.output as { message: string }).message, "Hello World");

      const failed = await runWebActivity({
        url: `${api.url}/simulate`,
        body: { fail: true, statusCode: 422, errorCode: "BadRows", message: "3 rows refused" },
      });
      assert.equal(failed.status, "Failed");
      assert.equal(failed.error?.errorCode, "EndpointError");
      assert.match(failed.error?.message ?? "", /^The endpoint answered 422 .*"code":"BadRows","message":"3 rows refused"/);
    });

    it("a pipeline that forgot Content-Type, or whose Web activity adds datasets and linkedServices, still runs", async () => {
      const noContentType = { "Content-Type": "" };
      const webhook = await runWebhookActivity({
        url: `${api.url}/simulate`,
        body: { output: { rows: 1 } },
        headers: noContentType,
        reportStatusOnCallback: true,
        timeoutMs: 10_000,
      });
      assert.equal(webhook.status, "Succeeded", JSON.stringify(webhook.error));
      assert.deepEqual(webhook.output, { rows: 1 });
      const web = await runWebActivity({ url: `${api.url}/simulate`, body: { output: { rows: 2 } }, headers: noContentType });
      assert.equal(web.status, "Succeeded", JSON.stringify(web.error));

      // The body ADF sends when the activity references a dataset and a linked service.
      const referenced = await runWebActivity({
        url: `${api.url}/simulate`,
        body: {
          output: { rows: 3 },
          datasets: [{ name: "MyDataset1", properties: { type: "AzureSqlTable" } }],
          linkedServices: [{ name: "MyStorageLinkedService1", properties: { type: "AzureBlobStorage" } }],
        },
      });
      assert.equal(referenced.status, "Succeeded", JSON.stringify(referenced.error));
      assert.equal((referenced.output as { rows: number }).rows, 3);
    });

    it("Web: a job slower than httpRequestTimeout fails the activity as EndpointTimeout", async () => {
      const result = await runWebActivity({ url: `${api.url}/simulate`, body: { durationMs: 800 }, requestTimeoutMs: 200 });
      assert.equal(result.status, "Failed");
      assert.equal(result.error?.errorCode, "EndpointTimeout");
    });
  });

  describe("Basic authentication", () => {
    let api: RunningApi;
    before(async () => {
      api = await start({ AUTH_MODE: "basic", BASIC_AUTH_USERNAME: "adf", BASIC_AUTH_PASSWORD: "s3cret:with-colon" });
    });

    it("the right credentials run both activities; wrong or none fail them with the API's 401", async () => {
      const auth = { kind: "basic", username: "adf", password: "s3cret:with-colon" } as const;
      const webhook = await runWebhookActivity({ url: `${api.url}/simulate`, auth, reportStatusOnCallback: true, timeoutMs: 10_000 });
      assert.equal(webhook.status, "Succeeded", JSON.stringify(webhook.error));
      assert.equal((await runWebActivity({ url: `${api.url}/helloworld`, method: "GET", auth })).status, "Succeeded");

      for (const wrong of [{ kind: "basic", username: "adf", password: "guess" } as const, undefined]) {
        for (const run of [
          () => runWebhookActivity({ url: `${api.url}/simulate`, auth: wrong, timeoutMs: 10_000 }),
          () => runWebActivity({ url: `${api.url}/simulate`, auth: wrong }),
        ]) {
          const result = await run();
          assert.equal(result.status, "Failed");
          assert.match(result.error?.message ?? "", /^The endpoint answered 401 Unauthorized: \{"error":\{"code":"unauthorized"/);
        }
      }
    });
  });

  describe("Entra ID authentication, real signed tokens", () => {
    let api: RunningApi;
    let issuer: TokenIssuer;
    before(async () => {
      issuer = await (await loadTokens()).startTokenIssuer();
      api = await start({
        AUTH_MODE: "entra",
        ENTRA_TENANT_ID: issuer.tenantId,
        ENTRA_AUDIENCE: issuer.audience,
        ENTRA_JWKS_URI: issuer.jwksUri,
      });
    });
    after(() => issuer.close());

    it("a token for the API's audience runs both activities, as ADF's managed identity authentication does", async () => {
      const auth = { kind: "bearer", token: await issuer.mint() } as const;
      const webhook = await runWebhookActivity({
        url: `${api.url}/simulate`,
        body: { output: { by: "managed identity" } },
        auth,
        reportStatusOnCallback: true,
        timeoutMs: 10_000,
      });
      assert.equal(webhook.status, "Succeeded", JSON.stringify(webhook.error));
      assert.deepEqual(webhook.output, { by: "managed identity" });
      const web = await runWebActivity({ url: `${api.url}/test`, method: "GET", auth });
      assert.equal((web.output as { test: string }).test, "test");
    });

    it("an expired token, or one for another resource, fails the activity with the API's 401", async () => {
      const now = Math.floor(Date.now() / 1000);
      for (const token of [await issuer.mint({ exp: now - 600, iat: now - 4000, nbf: now - 4000 }), await issuer.mint({ aud: "https://management.azure.com/" })]) {
        const result = await runWebhookActivity({ url: `${api.url}/simulate`, auth: { kind: "bearer", token }, timeoutMs: 10_000 });
        assert.equal(result.status, "Failed");
        assert.match(result.error?.message ?? "", /^The endpoint answered 401 Unauthorized: \{"error":\{"code":"unauthorized"/);
      }
    });
  });

  describe("the command line against the API as its own process", function () {
    this.timeout(30_000); // a process start through tsx, on a busy machine
    it("exits 0 on a job that succeeds and 1 on one that fails, printing ADF's view", async () => {
      const { startApiProcess } = await loadProcess();
      const proc = await startApiProcess({ ...LOCAL, METRICS_PORT: "0" });
      try {
        const succeeded = await runMain([`${proc.url}/simulate`, "--report-status-on-callback", "--body", '{"durationMs":10}']);
        assert.equal(succeeded.code, 0);
        assert.match(succeeded.stdout, /^Webhook activity: Succeeded\n/);
        const failing = '{"fail":true,"statusCode":500,"errorCode":"Boom","message":"it broke"}';
        const failed = await runMain([`${proc.url}/simulate`, "--report-status-on-callback", "--body", failing]);
        assert.equal(failed.code, 1);
        assert.match(failed.stdout, /Webhook activity: Failed\n {2}Error code: Boom\n {2}Message: {4}it broke\n/);
        const web = await runMain([`${proc.url}/helloworld`, "--web", "--method", "GET"]);
        assert.equal(web.code, 0);
        assert.match(web.stdout, /Web activity: Succeeded[\s\S]*"message": "Hello World"/);
      } finally {
        proc.child.kill("SIGTERM");
        await proc.exited;
      }
    });
  });
});
