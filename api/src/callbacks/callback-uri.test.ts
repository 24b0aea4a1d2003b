import assert from "node:assert/strict";

import { Registry } from "prom-client";

import { createLogger } from "../framework/logging.js";
import { startApi } from "../testing/api.js";
import { postJson, startReceiver } from "../testing/receiver.js";
import { CallbackSender } from "./sender.js";
import { blockedReason } from "./addresses.js";
import { checkCallbackUri, type CallbackPolicy, type HostLookup } from "./callback-uri.js";
import { createJobMetrics } from "../activities/metrics.js";

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

  /**
   * Every entry of IANA's IPv4 and IPv6 Special-Purpose Address Registries, plus multicast and Azure's
   * platform endpoint: an address inside each (its first and its last) is refused, even with
   * CALLBACK_ALLOW_INSECURE. Private ranges are named as such; loopback is allowed only when insecure.
   */
  const SPECIAL_PURPOSE: Array<[range: string, first: string, last: string]> = [
    ["0.0.0.0/8", "0.0.0.0", "0.255.255.255"],
    ["10.0.0.0/8", "10.0.0.0", "10.255.255.255"],
    ["100.64.0.0/10", "100.64.0.0", "100.127.255.255"],
    ["169.254.0.0/16", "169.254.0.0", "169.254.255.255"],
    ["172.16.0.0/12", "172.16.0.0", "172.31.255.255"],
    ["192.0.0.0/24", "192.0.0.0", "192.0.0.255"],
    ["192.0.2.0/24", "192.0.2.0", "192.0.2.255"],
    ["192.31.196.0/24", "192.31.196.0", "192.31.196.255"],
    ["192.52.193.0/24", "192.52.193.0", "192.52.193.255"],
    ["192.88.99.0/24", "192.88.99.0", "192.88.99.255"],
    ["192.168.0.0/16", "192.168.0.0", "192.168.255.255"],
    ["192.175.48.0/24", "192.175.48.0", "192.175.48.255"],
    ["198.18.0.0/15", "198.18.0.0", "198.19.255.255"],
    ["198.51.100.0/24", "198.51.100.0", "198.51.100.255"],
    ["203.0.113.0/24", "203.0.113.0", "203.0.113.255"],
    ["224.0.0.0/4 (multicast)", "224.0.0.0", "239.255.255.255"],
    ["240.0.0.0/4", "240.0.0.0", "255.255.255.254"],
    ["255.255.255.255/32", "255.255.255.255", "255.255.255.255"],
    ["168.63.129.16/32 (Azure)", "168.63.129.16", "168.63.129.16"],
    ["::/128", "::", "::"],
    ["::ffff:0:0/96", "::ffff:0:0", "::ffff:ffff:ffff"],
    ["64:ff9b::/96", "64:ff9b::", "64:ff9b::ffff:ffff"],
    ["64:ff9b:1::/48", "64:ff9b:1::", "64:ff9b:1:ffff:ffff:ffff:ffff:ffff"],
    ["100::/64", "100::", "100::ffff:ffff:ffff:ffff"],
    ["100:0:0:1::/64", "100:0:0:1::", "100::1:ffff:ffff:ffff:ffff"],
    ["2001::/23", "2001::", "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["2001:db8::/32", "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["2002::/16", "2002::", "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["2620:4f:8000::/48", "2620:4f:8000::", "2620:4f:8000:ffff:ffff:ffff:ffff:ffff"],
    ["3fff::/20", "3fff::", "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["5f00::/16", "5f00::", "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["fc00::/7", "fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["fe80::/10", "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["ff00::/8 (multicast)", "ff00::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
  ];
  for (const [range, first, last] of SPECIAL_PURPOSE) {
    it(`refuses ${range}, even with CALLBACK_ALLOW_INSECURE`, async () => {
      for (const address of [first, last]) {
        assert.ok(blockedReason(address, true), `${address} (${range}) is blocked`);
        const literal = address.includes(":") ? `[${address}]` : address;
        await assert.rejects(checkCallbackUri(`http://${literal}/cb`, insecure), /callBackUri refused: its host is a/, address);
      }
    });
  }

  it("loopback (127.0.0.0/8, ::1) is refused unless insecure; the addresses just outside the special ranges are not blocked", () => {
    for (const address of ["127.0.0.0", "127.255.255.255", "::1"]) {
      assert.match(blockedReason(address, false) ?? "", /loopback/, address);
      assert.equal(blockedReason(address, true), undefined, address);
    }
    // Neighbours of the ranges above: public addresses (the IP-literal rule refuses them apart).
    for (const address of ["1.0.0.0", "100.128.0.0", "192.0.1.0", "192.0.3.0", "198.51.99.255", "203.0.114.0", "223.255.255.255", "2001:200::", "2001:db9::", "2003::", "2620:4f:8001::", "3fff:1000::", "fbff::1", "::1:0:0"]) {
      assert.equal(blockedReason(address, false), undefined, address);
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
      const delivered = await sender.deliver(url, Buffer.from('{"Output":{},"StatusCode":"200"}'), createLogger("info", { write: (line: string) => void lines.push(line) }));
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

describe("CALLBACK_TEST_RECEIVER: one origin reachable over http, private or not", () => {
  const policy: CallbackPolicy = { ...strict, testReceiver: "http://10.244.0.1:8099" };

  it("accepts exactly that ip and port over http, whatever the path", async () => {
    assert.equal((await checkCallbackUri("http://10.244.0.1:8099/callback/t0ken", policy)).host, "10.244.0.1:8099");
    assert.ok(await checkCallbackUri("http://10.244.0.1:8099/", { ...policy, testReceiver: "http://10.244.0.1:8099/" }));
    assert.ok(await checkCallbackUri("http://[fd00::5]:80/cb", { ...strict, testReceiver: "http://[fd00::5]:80" }));
  });

  for (const [uri, why] of [
    ["http://10.244.0.1:8098/cb", /must use https/],
    ["http://10.244.0.2:8099/cb", /must use https/],
    ["http://10.244.0.1/cb", /must use https/],
    ["https://10.244.0.1:8099/cb", /private/],
    ["http://user:pw@10.244.0.1:8099/cb", /must use https|credentials/],
    ["http://localhost:8099/cb", /must use https/],
  ] as const) {
    it(`still refuses ${uri}`, async () => {
      await assert.rejects(checkCallbackUri(uri, policy), (error: Error) => why.test(error.message));
    });
  }

  it("over HTTP: the receiver is called back without CALLBACK_ALLOW_INSECURE; its neighbour port is refused", async () => {
    const receiver = await startReceiver();
    const api = await startApi({ CALLBACK_TEST_RECEIVER: receiver.base });
    try {
      const accepted = await postJson(`${api.url}/helloworld`, { callBackUri: `${receiver.base}/cb/rehearsal` });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const [callback] = await receiver.waitFor(1);
      assert.equal(callback!.path, "/cb/rehearsal");
      const port = Number(new URL(receiver.base).port);
      const refused = await postJson(`${api.url}/helloworld`, { callBackUri: `http://127.0.0.1:${port === 65535 ? port - 1 : port + 1}/cb` });
      assert.equal(refused.status, 400);
      assert.equal(refused.body?.error?.code, "invalid_callback_uri");
    } finally {
      await api.close();
      await receiver.close();
    }
  });
});

describe("callBackUri hosts that DNS cannot resolve right now", () => {
  // No DNS server can be reached from here: the resolver is a stand-in that answers as getaddrinfo does
  // (EAI_AGAIN for a failing server), and the callback goes to a real receiver on 127.0.0.1.
  const HOST = "adf.example.test";
  function scriptedLookup(answers: Array<"EAI_AGAIN" | "ENOTFOUND" | string>) {
    const calls: string[] = [];
    const lookup: HostLookup = (hostname, _options, callback) => {
      calls.push(hostname);
      const answer = answers.length > 1 ? answers.shift()! : answers[0]!;
      if (answer === "EAI_AGAIN" || answer === "ENOTFOUND") {
        const error = Object.assign(new Error(`getaddrinfo ${answer} ${hostname}`), { code: answer });
        return void setImmediate(() => callback(error, []));
      }
      setImmediate(() => callback(null, [{ address: answer, family: 4 }]));
    };
    return { lookup, calls };
  }
  const env = { CALLBACK_ALLOW_INSECURE: "true", CALLBACK_ALLOWED_HOSTS: "example.test", CALLBACK_RETRY_BASE_MS: "10", CALLBACK_MAX_ATTEMPTS: "5" };

  it("accepts the job (202, not 503) and delivers once the name resolves", async () => {
    const receiver = await startReceiver();
    const { lookup, calls } = scriptedLookup(["EAI_AGAIN", "EAI_AGAIN", "127.0.0.1"]);
    const api = await startApi(env, { lookup });
    try {
      const port = new URL(receiver.base).port;
      const res = await postJson(`${api.url}/helloworld`, { callBackUri: `http://${HOST}:${port}/cb?sig=s3cret` });
      assert.equal(res.status, 202);
      const [callback] = await receiver.waitFor(1);
      assert.deepEqual(callback!.body, { Output: { message: "Hello World" }, StatusCode: "200" });
      assert.ok(calls.length >= 3, "resolved again at delivery, retried while DNS failed");
      await api.waitForLog((line) => line.msg === "callback delivered");
    } finally {
      await api.close();
      await receiver.close();
    }
  });

  it("the connect-time check still guards delivery: a name that later resolves to a metadata address is never called", async () => {
    const { lookup } = scriptedLookup(["EAI_AGAIN", "169.254.169.254"]);
    const api = await startApi(env, { lookup });
    try {
      const res = await postJson(`${api.url}/helloworld`, { callBackUri: `http://${HOST}/cb` });
      assert.equal(res.status, 202);
      const giveUp = await api.waitForLog((line) => String(line.msg).startsWith("callback given up"));
      assert.equal(giveUp.reason, "rejected");
      assert.match(String(giveUp.why), /link-local, metadata or reserved address/);
    } finally {
      await api.close();
    }
  });

  it("a name that does not exist (NXDOMAIN) is still refused at once: 400", async () => {
    const { lookup } = scriptedLookup(["ENOTFOUND"]);
    const api = await startApi(env, { lookup });
    try {
      const res = await postJson(`${api.url}/helloworld`, { callBackUri: `http://${HOST}/cb` });
      assert.equal(res.status, 400);
      assert.equal(res.body?.error?.code, "invalid_callback_uri");
      assert.match(res.body?.error?.message ?? "", /does not resolve/);
    } finally {
      await api.close();
    }
  });
});

/**
 * Issue 25: a callBackUri whose host can never resolve (longer than 253 octets: the resolver fails it
 * with EINVAL) was accepted, its callback retried until given up; 1,000 of them in a second filled the
 * pending-callback budget. Every name that can never resolve is refused at intake; only a resolver that
 * cannot answer now lets a call through.
 */
describe("callBackUri hosts that can never resolve: refused at intake", () => {
  const LONG = `${Array.from({ length: 5 }, (_, i) => String.fromCharCode(97 + i).repeat(60)).join(".")}.datafactory.azure.com`;
  /** A resolver stand-in that fails every name with `code` (or never answers), and counts its calls. */
  function failingLookup(code: string | "hang") {
    const calls: string[] = [];
    const answer: Array<() => void> = [];
    const lookup: HostLookup = (hostname, _options, callback) => {
      calls.push(hostname);
      const fail = () => callback(Object.assign(new Error(`getaddrinfo ${code} ${hostname}`), { code }), []);
      if (code === "hang") answer.push(() => callback(null, [{ address: "20.50.1.1", family: 4 }]));
      else setImmediate(fail);
    };
    return { lookup, calls, release: () => answer.splice(0).forEach((each) => each()) };
  }

  for (const [uri, why] of [
    [`https://${LONG}/cb`, /longer than 253 characters/],
    [`https://${"x".repeat(64)}.datafactory.azure.com/cb`, /label longer than 63/],
    ["https://a..datafactory.azure.com/cb", /empty label/],
    ["https://a_b.datafactory.azure.com/cb", /letters, digits and inner hyphens/],
    ["https://-a.datafactory.azure.com/cb", /letters, digits and inner hyphens/],
  ] as const) {
    it(`refuses ${uri.length > 80 ? `${uri.slice(0, 60)}... (${uri.length} characters)` : uri} without a lookup`, async () => {
      const { lookup, calls } = failingLookup("EAI_AGAIN");
      await assert.rejects(checkCallbackUri(uri, { ...strict, lookup }), (error: Error) => why.test(error.message));
      assert.deepEqual(calls, []);
    });
  }

  it("with the system's resolver, a name longer than 253 characters is refused by its length (the resolver answers EINVAL)", async () => {
    await assert.rejects(checkCallbackUri(`https://${LONG}/cb`, strict), /longer than 253 characters/);
  });

  for (const code of ["ENOTFOUND", "ENODATA", "EINVAL", "EAI_FAIL", "EAI_BADFLAGS", "EAI_FAMILY", "EBADNAME"]) {
    it(`refuses a name the resolver fails with ${code} (it will not resolve on a retry)`, async () => {
      const { lookup } = failingLookup(code);
      await assert.rejects(checkCallbackUri("https://dp.svc.datafactory.azure.com/cb", { ...strict, lookup }), /does not resolve|cannot be resolved/);
    });
  }

  for (const code of ["EAI_AGAIN", "ETIMEOUT", "ESERVFAIL", "EAI_SYSTEM"]) {
    it(`accepts a name the resolver cannot answer for now (${code}): delivery resolves it again`, async () => {
      const { lookup } = failingLookup(code);
      const url = await checkCallbackUri("https://dp.svc.datafactory.azure.com/cb", { ...strict, lookup });
      assert.equal(url.hostname, "dp.svc.datafactory.azure.com");
    });
  }

  it("lookups of one name under way at once share one call to the resolver (a name whose DNS hangs takes one of its threads, not all)", async () => {
    const { lookup, calls, release } = failingLookup("hang");
    const checks = Array.from({ length: 20 }, () => checkCallbackUri("https://dp.svc.datafactory.azure.com/cb", { ...strict, lookup }));
    const other = checkCallbackUri("https://other.svc.datafactory.azure.com/cb", { ...strict, lookup });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(calls, ["dp.svc.datafactory.azure.com", "other.svc.datafactory.azure.com"]);
    release();
    assert.equal((await Promise.all(checks)).length, 20);
    await other;
  });

  it("over HTTP: 400 invalid_callback_uri, and the pending callbacks stay empty", async () => {
    const api = await startApi({});
    try {
      for (let i = 0; i < 20; i++) {
        const res = await postJson(`${api.url}/helloworld`, { callBackUri: `https://${LONG}/cb/${i}` });
        assert.equal(res.status, 400);
        assert.equal(res.body?.error?.code, "invalid_callback_uri");
      }
      const metrics = await (await fetch(`${api.metricsUrl}/metrics`)).text();
      assert.match(metrics, /^callbacks_pending 0$/m);
    } finally {
      await api.close();
    }
  });
});
