import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  EXIT_USAGE,
  formatMs,
  formatReport,
  formatTimespan,
  interpretCallback,
  main,
  parseCliArgs,
  parseRetryAfter,
  parseTimespan,
  runWebActivity,
  runWebhookActivity,
  UsageError,
} from "./adf-emulator";

// Small real endpoints on 127.0.0.1 that behave as ADF's endpoints do; the real API is not used.

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

type Handler = (seen: Seen, res: http.ServerResponse) => void | Promise<void>;

const servers: TestServer[] = [];

async function serve(handler: Handler): Promise<TestServer> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const s: Seen = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() };
      seen.push(s);
      void Promise.resolve(handler(s, res)).catch((err: unknown) => {
        res.destroy(err as Error);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const ts: TestServer = {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  servers.push(ts);
  return ts;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { "Content-Type": "application/json", ...headers }).end(JSON.stringify(body));
}

function callBackUriOf(seen: Seen): string {
  return (JSON.parse(seen.body) as { callBackUri: string }).callBackUri;
}

async function callBack(uri: string, body: string): Promise<number> {
  const res = await fetch(uri, { method: "POST", headers: { "Content-Type": "application/json" }, body });
  await res.arrayBuffer();
  return res.status;
}

/** An endpoint that answers 202 with a receipt, then calls back with `callback` after `delayMs`. */
function acceptsThenCallsBack(callback: unknown, delayMs = 20, onAnswer: (status: number) => void = () => undefined): Handler {
  return (seen, res) => {
    json(res, 202, { jobId: "job-1", status: "accepted" });
    setTimeout(() => {
      void callBack(callBackUriOf(seen), JSON.stringify(callback)).then(onAnswer);
    }, delayMs);
  };
}

describe("ADF emulator", () => {
  describe("timespans", () => {
    it("parses ADF's hh:mm:ss and d.hh:mm:ss, with fractional seconds", () => {
      assert.equal(parseTimespan("00:10:00"), 600_000);
      assert.equal(parseTimespan("01:02:03"), 3_723_000);
      assert.equal(parseTimespan("1.00:00:00"), 86_400_000);
      assert.equal(parseTimespan("7.12:00:00"), 7.5 * 86_400_000);
      assert.equal(parseTimespan("00:00:01"), 1000);
      assert.equal(parseTimespan("00:00:00.25"), 250);
      assert.equal(parseTimespan("0:00:01.5"), 1500);
    });

    it("refuses what is not a timespan", () => {
      for (const bad of ["", "10", "10m", "00:10", "00:60:00", "24:00:00", "00:00:60", "-00:00:01", "00:00:00", "a.00:00:01", "00:00:01."]) {
        assert.throws(() => parseTimespan(bad), RangeError, bad);
      }
    });

    it("formats ms back into a timespan", () => {
      assert.equal(formatTimespan(600_000), "00:10:00");
      assert.equal(formatTimespan(86_400_000 + 3_723_000), "1.01:02:03");
      assert.equal(formatTimespan(1500), "00:00:01.5");
    });

    it("formats durations for people", () => {
      assert.equal(formatMs(12.4), "12 ms");
      assert.equal(formatMs(1530), "1.53 s");
      assert.equal(formatMs(60_000), "1 min");
      assert.equal(formatMs(90_500), "1 min 30.5 s");
    });

    it("reads Retry-After as seconds or a date", () => {
      assert.equal(parseRetryAfter("2"), 2000);
      assert.equal(parseRetryAfter("0"), 0);
      assert.equal(parseRetryAfter(undefined), undefined);
      assert.equal(parseRetryAfter("soon"), undefined);
      const now = Date.parse("2025-01-01T00:00:00Z");
      assert.equal(parseRetryAfter("Wed, 01 Jan 2025 00:00:03 GMT", now), 3000);
    });
  });

  describe("command line", () => {
    it("builds Webhook options with defaults and everything set", () => {
      assert.deepEqual(parseCliArgs(["http://localhost:5002/helloworld"]), {
        kind: "webhook",
        options: {
          url: "http://localhost:5002/helloworld",
          body: undefined,
          timeoutMs: undefined,
          auth: undefined,
          reportStatusOnCallback: false,
        },
      });
      const cmd = parseCliArgs([
        "http://localhost:5002/simulate",
        "--body",
        '{"durationMs":2000}',
        "--timeout",
        "00:00:30",
        "--report-status-on-callback",
        "--basic",
        "adf:pa:ss",
      ]);
      assert.deepEqual(cmd, {
        kind: "webhook",
        options: {
          url: "http://localhost:5002/simulate",
          body: { durationMs: 2000 },
          timeoutMs: 30_000,
          auth: { kind: "basic", username: "adf", password: "pa:ss" },
          reportStatusOnCallback: true,
        },
      });
    });

    it("builds Web options", () => {
      const cmd = parseCliArgs(["https://example.test/x", "--web", "--method", "get", "--bearer", "tok"]);
      assert.equal(cmd.kind, "web");
      assert.equal(cmd.kind === "web" && cmd.options.method, "GET");
      assert.deepEqual(cmd.kind === "web" && cmd.options.auth, { kind: "bearer", token: "tok" });
      assert.deepEqual(parseCliArgs(["--help"]), { kind: "help" });
    });

    it("refuses bad arguments with a usage error", () => {
      const cases: [string[], RegExp][] = [
        [[], /URL to call is missing/],
        [["http://a/x", "http://b/y"], /one URL only/],
        [["not a url"], /not an absolute URL/],
        [["ftp://a/x"], /http or https/],
        [["http://a/x", "--body", "{nope"], /--body is not JSON/],
        [["http://a/x", "--body", "[1,2]"], /JSON object/],
        [["http://a/x", "--body", '{"callBackUri":"x"}'], /must not set callBackUri/],
        [["http://a/x", "--timeout", "10 minutes"], /--timeout/],
        [["http://a/x", "--basic", "a:b", "--bearer", "t"], /not both/],
        [["http://a/x", "--basic", "nopass"], /USER:PASS/],
        [["http://a/x", "--method", "GET"], /always POSTs/],
        [["http://a/x", "--web", "--method", "PATCHY"], /--method must be/],
        [["http://a/x", "--web", "--report-status-on-callback"], /Webhook/],
        [["http://a/x", "--web", "--method", "GET", "--body", "{}"], /not sent with GET/],
        [["http://a/x", "--frobnicate"], /frobnicate/],
        [["http://a/x", "--body"], /--body/],
      ];
      for (const [argv, message] of cases) {
        assert.throws(() => parseCliArgs(argv), (err: unknown) => err instanceof UsageError && message.test(err.message), argv.join(" "));
      }
    });

    it("main: exit 64 on usage errors, help names CALLBACK_ALLOW_INSECURE", async () => {
      const out: string[] = [];
      const err: string[] = [];
      const io = { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t) };
      assert.equal(await main(["--timeout", "soon", "http://a/x"], io), EXIT_USAGE);
      assert.match(err.join(""), /--timeout/);
      assert.equal(await main(["--help"], io), 0);
      assert.match(out.join(""), /CALLBACK_ALLOW_INSECURE=true/);
      assert.match(out.join(""), /npm run adf -- http:\/\/localhost:5002\/simulate/);
    });
  });

  describe("interpreting callbacks", () => {
    it("without reportStatusOnCallBack any callback succeeds with its body", () => {
      const body = { StatusCode: "500", Error: { ErrorCode: "X", Message: "y" } };
      assert.deepEqual(interpretCallback(body, false), { status: "Succeeded", output: body });
    });

    it("with it, StatusCode (string or number) >= 400 fails with Error", () => {
      assert.deepEqual(interpretCallback({ Output: { a: 1 }, StatusCode: "200" }, true), { status: "Succeeded", output: { a: 1 } });
      assert.deepEqual(interpretCallback({ Output: { a: 1 } }, true), { status: "Succeeded", output: { a: 1 } });
      assert.deepEqual(interpretCallback({ StatusCode: 404, Error: { ErrorCode: "NotThere", Message: "gone" } }, true), {
        status: "Failed",
        output: undefined,
        error: { errorCode: "NotThere", message: "gone" },
      });
      const bare = interpretCallback({ StatusCode: "503" }, true);
      assert.equal(bare.status, "Failed");
      assert.equal(bare.error?.errorCode, "503");
      assert.equal(interpretCallback({ StatusCode: "oops" }, true).status, "Failed");
      assert.equal(interpretCallback([1], true).status, "Failed");
    });
  });

  describe("Webhook activity", () => {
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

  describe("Web activity", () => {
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

  describe("main", () => {
    it("runs a Webhook activity end to end and exits 0, 1 or 2", async () => {
      const ok = await serve(acceptsThenCallsBack({ Output: { done: true }, StatusCode: 200 }));
      const bad = await serve(acceptsThenCallsBack({ Error: { ErrorCode: "E1", Message: "nope" }, StatusCode: "500" }));
      const silent = await serve((_seen, res) => json(res, 202, {}));
      const out: string[] = [];
      const io = { stdout: (t: string) => void out.push(t), stderr: () => undefined };
      assert.equal(await main([ok.url, "--report-status-on-callback", "--body", '{"durationMs":1}'], io), 0);
      assert.match(out.join(""), /Webhook activity: Succeeded[\s\S]*"done": true/);
      assert.equal(await main([bad.url, "--report-status-on-callback"], io), 1);
      assert.match(out.join(""), /Error code: E1/);
      assert.equal(await main([silent.url, "--timeout", "00:00:00.2"], io), 2);
      assert.match(out.join(""), /Webhook activity: TimedOut/);
    });
  });
});
