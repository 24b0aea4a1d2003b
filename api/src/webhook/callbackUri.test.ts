import assert from "node:assert/strict";

import { Registry } from "prom-client";

import { createLogger } from "../framework/logging.js";
import { startApi } from "../testing/api.js";
import { postJson, startReceiver } from "../testing/receiver.js";
import { CallbackSender } from "./callback.js";
import { blockedReason, checkCallbackUri, type CallbackPolicy } from "./callbackUri.js";
import { createJobMetrics } from "./metrics.js";

const strict: CallbackPolicy = { allowedHosts: ["datafactory.azure.com", "azuresynapse.net", "localhost"], allowInsecure: false };
const insecure: CallbackPolicy = { ...strict, allowInsecure: true };

describe("callBackUri safety (SSRF)", () => {
  for (const [uri, why] of [
    ["http://dp.svc.datafactory.azure.com/cb", /must use https/],
    ["ftp://dp.svc.datafactory.azure.com/cb", /must use https/],
    ["/relative/cb", /not an absolute URI/],
    ["https://evil.example.com/cb", /not under CALLBACK_ALLOWED_HOSTS/],
    ["https://datafactory.azure.com.evil.example/cb", /not under CALLBACK_ALLOWED_HOSTS/],
    ["https://evildatafactory.azure.com/cb", /not under CALLBACK_ALLOWED_HOSTS/],
    ["https://user:pw@dp.svc.datafactory.azure.com/cb", /credentials/],
    ["https://20.1.2.3/cb", /IP address/],
    ["https://169.254.169.254/metadata", /link-local, metadata/],
    ["https://[::ffff:169.254.169.254]/metadata", /link-local, metadata/],
    ["https://10.0.0.5/cb", /private/],
    ["https://127.0.0.1/cb", /loopback/],
    ["https://[::1]/cb", /loopback/],
    ["https://localhost/cb", /resolves to a loopback address/],
  ] as const) {
    it(`refuses ${uri}`, async () => {
      await assert.rejects(checkCallbackUri(uri, strict), (error: Error) => why.test(error.message));
    });
  }

  it("refuses non-strings", async () => {
    for (const value of [42, null, {}, ["https://x"], ""]) {
      await assert.rejects(checkCallbackUri(value, strict), /non-empty string/);
    }
  });

  it("with CALLBACK_ALLOW_INSECURE allows http and loopback, still never metadata or private addresses", async () => {
    assert.equal((await checkCallbackUri("http://127.0.0.1:8080/cb", insecure)).port, "8080");
    assert.ok(await checkCallbackUri("http://localhost:8080/cb", insecure));
    await assert.rejects(checkCallbackUri("http://169.254.169.254/latest", insecure), /link-local/);
    await assert.rejects(checkCallbackUri("http://168.63.129.16/", insecure), /link-local, metadata/);
    await assert.rejects(checkCallbackUri("http://192.168.1.1/", insecure), /private/);
  });

  it("classifies addresses", () => {
    assert.equal(blockedReason("20.50.1.1", false), undefined);
    assert.equal(blockedReason("2603:1000::1", false), undefined);
    assert.match(blockedReason("fe80::1", true) ?? "", /link-local/);
    assert.match(blockedReason("fd00::1", true) ?? "", /private/);
    assert.match(blockedReason("100.64.0.1", true) ?? "", /private/);
    assert.match(blockedReason("::ffff:127.0.0.1", false) ?? "", /loopback/);
    assert.equal(blockedReason("127.0.0.1", true), undefined);
    assert.equal(blockedReason("::1", true), undefined);
    for (const embedded of ["64:ff9b::a9fe:a9fe", "::a9fe:a9fe", "2002:a9fe:a9fe::1", "2001:0:4136:e378::1", "fec0::1"]) {
      assert.match(blockedReason(embedded, true) ?? "", /reserved/, embedded);
    }
  });

  it("checks the address again when connecting (DNS rebinding): a name that now resolves to loopback is never called", async () => {
    const receiver = await startReceiver();
    const lines: string[] = [];
    const sender = new CallbackSender(
      { timeoutMs: 500, maxAttempts: 3, retryBaseMs: 1, allowInsecure: false },
      createJobMetrics(new Registry()),
    );
    try {
      const url = new URL(receiver.base.replace("127.0.0.1", "localhost"));
      const delivered = await sender.deliver(url, { Output: {}, StatusCode: "200" }, createLogger("info", { write: (line: string) => void lines.push(line) }));
      assert.equal(delivered, false);
      assert.equal(receiver.attempts, 0);
      assert.match(lines.join(""), /"reason":"rejected","why":"callback host resolves to a loopback address","msg":"callback given up/);
    } finally {
      sender.close();
      await receiver.close();
    }
  });

  it("answers 400 invalid_callback_uri over HTTP, before accepting the job", async () => {
    const api = await startApi();
    try {
      const res = await postJson(`${api.url}/helloworld`, { callBackUri: "https://169.254.169.254/metadata" });
      assert.equal(res.status, 400);
      assert.equal(res.body?.error?.code, "invalid_callback_uri");
    } finally {
      await api.close();
    }
  });
});
