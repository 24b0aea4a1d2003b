import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";

import { startApi, type RunningApi } from "../testing/api.js";
import { sendRaw } from "../testing/http.js";
import { logsThrough, startApiProcess, type ApiProcess } from "../testing/process.js";
import { findSecrets } from "../testing/secrets.js";

describe("requests whose HTTP framing breaks: answered as JSON, never logged as bytes", function () {
  this.timeout(60_000);

  const PASSWORD = `pw-${randomBytes(12).toString("hex")}`;
  const BEARER = `eyJhbGciOiJSUzI1NiJ9.${randomBytes(48).toString("base64url")}.${randomBytes(64).toString("base64url")}`;
  const SIG = `sig-${randomBytes(16).toString("hex")}`;
  const CALLBACK = `https://eastus.svc.datafactory.azure.com/dataplane/workflow/callback/abc?callbackUrl=x&sig=${SIG}`;
  const secrets = [PASSWORD, BEARER, SIG, `adf:${PASSWORD}`];

  // AUTH_MODE=basic with the right password, so the handler reads the body; AUTH_MODE=none with a bearer
  // token sent anyway. Debug level: no line at any level may carry the bytes.
  const processes: Record<"basic" | "none", ApiProcess | undefined> = { basic: undefined, none: undefined };
  before(async () => {
    [processes.basic, processes.none] = await Promise.all([
      startApiProcess({ LOG_LEVEL: "debug", AUTH_MODE: "basic", BASIC_AUTH_USERNAME: "adf", BASIC_AUTH_PASSWORD: PASSWORD }),
      startApiProcess({ LOG_LEVEL: "debug" }),
    ]);
  });
  after(async () => {
    for (const api of Object.values(processes)) {
      if (!api) continue;
      api.child.kill("SIGTERM");
      await api.exited;
    }
  });

  const authorization = {
    basic: `Basic ${Buffer.from(`adf:${PASSWORD}`).toString("base64")}`,
    none: `Bearer ${BEARER}`,
  };
  const body = (padding = 200) => JSON.stringify({ callBackUri: CALLBACK, pad: "x".repeat(padding) });
  const head = (mode: "basic" | "none", headers: string) =>
    `POST /helloworld?sig=${SIG} HTTP/1.1\r\nHost: api\r\nAuthorization: ${authorization[mode]}\r\nContent-Type: application/json\r\n${headers}\r\n`;
  const chunk = (data: string) => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;

  /** Each shape: the bytes sent, whether the client half-closes, and the JSON error code expected (if any answer). */
  const shapes: Array<{ name: string; raw: (mode: "basic" | "none") => string; end?: boolean; expect?: [number, string] }> = [
    {
      name: "a bad chunk size after a whole 60 KB chunk",
      raw: (mode) => `${head(mode, "Transfer-Encoding: chunked\r\n")}${chunk(body(60_000))}ZZZ\r\n`,
      expect: [400, "malformed_request"],
    },
    {
      name: "a chunk longer than announced (no CRLF after its data)",
      raw: (mode) => `${head(mode, "Transfer-Encoding: chunked\r\n")}10\r\n${body()}\r\n0\r\n\r\n`,
      expect: [400, "malformed_request"],
    },
    {
      name: "a truncated chunk, then the client hangs up",
      raw: (mode) => `${head(mode, "Transfer-Encoding: chunked\r\n")}ffff\r\n${body()}`,
      end: true,
    },
    {
      name: "a bad chunk extension",
      raw: (mode) => `${head(mode, "Transfer-Encoding: chunked\r\n")}${chunk(body())}5;ext="\x01bad\r\nhello\r\n0\r\n\r\n`,
      expect: [400, "malformed_request"],
    },
    {
      name: "chunk extensions that overflow",
      raw: (mode) => `${head(mode, "Transfer-Encoding: chunked\r\n")}${chunk(body())}5;${"e".repeat(20_000)}\r\nhello\r\n0\r\n\r\n`,
      expect: [413, "payload_too_large"],
    },
    {
      name: "trailers that overflow the header limit after the body started",
      raw: (mode) => `${head(mode, "Transfer-Encoding: chunked\r\n")}${chunk(body())}0\r\nX-Trailer: ${"t".repeat(20_000)}\r\n\r\n`,
      expect: [431, "headers_too_large"],
    },
    {
      name: "more body than Content-Length (the rest read as a bad next request)",
      raw: (mode) => {
        const data = body();
        return `${head(mode, `Content-Length: 40\r\n`)}${data}`;
      },
      expect: [400, "malformed_request"],
    },
    {
      name: "less body than Content-Length, then the client hangs up",
      raw: (mode) => `${head(mode, "Content-Length: 65536\r\n")}${body(1_000)}`,
      end: true,
    },
    {
      name: "both Content-Length and Transfer-Encoding",
      raw: (mode) => `${head(mode, "Content-Length: 10\r\nTransfer-Encoding: chunked\r\n")}${chunk(body())}0\r\n\r\n`,
      expect: [400, "malformed_request"],
    },
    {
      name: "a control character in a header after the Authorization header",
      raw: (mode) => `${head(mode, "X-Bad: a\x01b\r\nContent-Length: 2\r\n")}{}`,
      expect: [400, "malformed_request"],
    },
    {
      name: "headers over the limit",
      raw: (mode) => `${head(mode, `X-Big: ${"h".repeat(20_000)}\r\nContent-Length: 2\r\n`)}{}`,
      expect: [431, "headers_too_large"],
    },
    {
      name: "a bad request pipelined after a good one",
      raw: (mode) => {
        const good = body();
        return `${head(mode, `Content-Length: ${Buffer.byteLength(good)}\r\n`)}${good}POST /helloworld?sig=${SIG} HTTX/1.1\r\nAuthorization: ${authorization[mode]}\r\n\r\n`;
      },
      expect: [400, "malformed_request"],
    },
  ];

  for (const mode of ["basic", "none"] as const) {
    for (const shape of shapes) {
      it(`${shape.name} (AUTH_MODE=${mode})`, async () => {
        const api = processes[mode]!;
        const from = api.lines.length;
        const answer = await sendRaw(api.url, shape.raw(mode), { end: shape.end ?? false });
        if (shape.expect) {
          const [status, code] = shape.expect;
          // The last answer on the connection is the parser's refusal: a status line and our JSON error.
          const last = answer.slice(answer.lastIndexOf("HTTP/1.1 "));
          assert.match(last, new RegExp(`^HTTP/1\\.1 ${status} `), `answer: ${JSON.stringify(answer.slice(0, 200))}`);
          assert.match(last, /\r\nContent-Type: application\/json\r\n/i);
          const json = JSON.parse(last.slice(last.indexOf("\r\n\r\n") + 4)) as { error: { code: string; message: string } };
          assert.equal(json.error.code, code);
          assert.equal(typeof json.error.message, "string");
        }
        const logText = await logsThrough(api, from);
        assert.deepEqual(findSecrets(logText, secrets), []);
        assert.ok(!logText.includes("rawPacket"), "no raw packet is logged");
      });
    }
  }

  it("writes well under 1 KB of log for a malformed 60 KB request (was ~180 KB)", async () => {
    const api = processes.basic!;
    const from = api.lines.length;
    await sendRaw(api.url, shapes[0]!.raw("basic"));
    const logText = await logsThrough(api, from);
    const bytes = Buffer.byteLength(logText);
    assert.ok(bytes < 1_024, `${bytes} bytes of log: ${logText}`);
    // The refusal is logged once, by its code.
    assert.match(logText, /"code":"HPE_INVALID_CHUNK_SIZE"/);
  });

  it("the metrics port answers and logs the same way, and nothing goes to stderr", async () => {
    const api = processes.basic!;
    let stderr = "";
    api.child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const from = api.lines.length;
    const raw = `POST /metrics?sig=${SIG} HTTP/1.1\r\nHost: api\r\nAuthorization: ${authorization.basic}\r\nTransfer-Encoding: chunked\r\n\r\n${chunk(body(60_000))}ZZZ\r\n`;
    const answer = await sendRaw(api.metricsUrl, raw);
    assert.match(answer.slice(answer.lastIndexOf("HTTP/1.1 ")), /^HTTP\/1\.1 400 [^]*"code":"malformed_request"/);
    const logText = await logsThrough(api, from);
    assert.deepEqual(findSecrets(logText + stderr, secrets), []);
    assert.equal(stderr, "", "Koa's default error printer stays silent: errors go to the log");
  });

  it("the search itself finds a secret in each form it looks for", () => {
    const bytes = JSON.stringify({ rawPacket: { type: "Buffer", data: [...Buffer.from(`x${PASSWORD}x`)] } });
    assert.ok(findSecrets(bytes, [PASSWORD]).length > 0);
    assert.ok(findSecrets(JSON.stringify({ a: Buffer.from(SIG).toString("base64") }), [SIG]).length > 0);
    assert.ok(findSecrets(JSON.stringify({ a: `..${BEARER}..` }), [BEARER]).length > 0);
  });
});

/**
 * Issue 25: requests Node answers on its own (a missing Host: an empty 400; an Expect other than
 * 100-continue: an empty 417; CONNECT: a closed connection), with no log line and no metric. They get
 * the API's JSON error shape, a log line and a metric, like every other refusal.
 */
describe("requests Node would refuse on its own: JSON errors, logged and counted", function () {
  this.timeout(30_000);

  let api: RunningApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  /** The count of http_request_duration_seconds for one method and status on the unmatched route. */
  async function refusals(method: string, status: string): Promise<number> {
    const text = await (await fetch(`${api.metricsUrl}/metrics`)).text();
    const line = new RegExp(`^http_request_duration_seconds_count\\{method="${method}",route="unmatched",status="${status}"\\} (\\d+)$`, "m").exec(text);
    return Number(line?.[1] ?? 0);
  }

  for (const { name, raw, method, status, code } of [
    { name: "an HTTP/1.1 request without Host", raw: "GET /healthz HTTP/1.1\r\n\r\n", method: "GET", status: 400, code: "missing_host" },
    {
      name: "an Expect other than 100-continue",
      raw: 'POST /helloworld HTTP/1.1\r\nHost: api\r\nExpect: 200-ok\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
      method: "POST",
      status: 417,
      code: "expectation_failed",
    },
    { name: "CONNECT", raw: "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", method: "CONNECT", status: 405, code: "method_not_allowed" },
  ]) {
    it(`${name}: ${status} ${code} as JSON, then the connection closes; one log line, counted`, async () => {
      const before = await refusals(method, String(status));
      const from = api.logs.length;
      const answer = await sendRaw(api.url, raw);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), JSON.stringify(answer.slice(0, 200)));
      assert.match(answer, /\r\nContent-Type: application\/json/i);
      const json = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as { error: { code: string; message: string } };
      assert.equal(json.error.code, code);
      assert.equal(typeof json.error.message, "string");
      const lines = api.logs.slice(from).filter((line) => line.msg === "request refused");
      assert.deepEqual(
        lines.map(({ method: m, status: s, code: c }) => ({ method: m, status: s, code: c })),
        [{ method, status, code }],
      );
      assert.equal(await refusals(method, String(status)), before + 1);
    });
  }

  it("a request the HTTP parser refuses is counted too (its method unknown)", async () => {
    const before = await refusals("unknown", "400");
    const answer = await sendRaw(api.url, "GET /healthz HTTX/1.1\r\nHost: api\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 400 [^]*"code":"malformed_request"/);
    assert.equal(await refusals("unknown", "400"), before + 1);
  });

  it("an HTTP/1.0 request without Host is still served (Host is required from HTTP/1.1 on)", async () => {
    const answer = await sendRaw(api.url, "GET /healthz HTTP/1.0\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 200 /);
  });
});
