import assert from "node:assert/strict";

import { UsageError } from "./activity.js";
import { acceptsThenCallsBack, closeEndpoints, json, rawAnswer, serve, serveRaw } from "./testing/endpoints.js";
import { EXIT_USAGE, parseCliArgs } from "./index.js";
import { runMain } from "./testing/cli.js";

describe("ADF emulator: command line", () => {
  afterEach(closeEndpoints);

  it("builds Webhook options with defaults and everything set", () => {
    assert.deepEqual(parseCliArgs(["http://localhost:5002/helloworld"]), {
      kind: "webhook",
      options: {
        url: "http://localhost:5002/helloworld",
        body: undefined,
        headers: undefined,
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
        headers: undefined,
        timeoutMs: 30_000,
        auth: { kind: "basic", username: "adf", password: "pa:ss" },
        reportStatusOnCallback: true,
      },
    });
  });

  it("--receiver-listen and --receiver-host: where the receiver binds, and what callBackUri names", () => {
    const options = (argv: string[]) => {
      const cmd = parseCliArgs(["http://localhost:5002/simulate", ...argv]);
      return cmd.kind === "webhook" ? cmd.options.receiver : undefined;
    };
    assert.equal(options([]), undefined);
    assert.deepEqual(options(["--receiver-listen", "0.0.0.0:8099", "--receiver-host", "172.18.0.1"]), { listenHost: "0.0.0.0", listenPort: 8099, host: "172.18.0.1" });
    assert.deepEqual(options(["--receiver-listen", "[fd00::1]:8099"]), { listenHost: "fd00::1", listenPort: 8099 });
    assert.deepEqual(options(["--receiver-host", "10.244.0.1:9000"]), { host: "10.244.0.1", port: 9000 });
    assert.throws(() => parseCliArgs(["http://x.test/", "--receiver-listen", "0.0.0.0:8099"]), /say which one callBackUri names with --receiver-host/);
    assert.throws(() => parseCliArgs(["http://x.test/", "--receiver-host", "0.0.0.0"]), /not 0\.0\.0\.0/);
    assert.throws(() => parseCliArgs(["http://x.test/", "--receiver-listen", "http://10.0.0.1:80"]), UsageError);
    assert.throws(() => parseCliArgs(["http://x.test/", "--receiver-listen", "10.0.0.1:99999"]), UsageError);
    assert.throws(() => parseCliArgs(["http://x.test/", "--web", "--receiver-host", "10.0.0.1"]), /not --web/);
  });

  it("builds Web options", () => {
    const cmd = parseCliArgs(["https://example.test/x", "--web", "--method", "get", "--bearer", "tok"]);
    assert.equal(cmd.kind, "web");
    assert.equal(cmd.kind === "web" && cmd.options.method, "GET");
    assert.deepEqual(cmd.kind === "web" && cmd.options.auth, { kind: "bearer", token: "tok" });
    assert.deepEqual(parseCliArgs(["--help"]), { kind: "help" });
  });

  it("builds Web options with PATCH, headers, httpRequestTimeout and turnOffAsync", () => {
    const cmd = parseCliArgs([
      "https://example.test/x",
      "--web",
      "--method",
      "patch",
      "--body",
      '{"a":1}',
      "--header",
      "Accept-Language: en-us",
      "--header",
      "X-Empty:",
      "--header",
      "X-Url:https://a.test:8443/p",
      "--http-request-timeout",
      "00:10:00",
      "--turn-off-async",
    ]);
    assert.deepEqual(cmd, {
      kind: "web",
      options: {
        url: "https://example.test/x",
        body: { a: 1 },
        headers: { "Accept-Language": "en-us", "X-Empty": "", "X-Url": "https://a.test:8443/p" },
        timeoutMs: undefined,
        auth: undefined,
        method: "PATCH",
        requestTimeoutMs: 600_000,
        turnOffAsync: true,
      },
    });
    const del = parseCliArgs(["https://example.test/x", "--web", "--method", "DELETE", "--body", "{}"]);
    assert.deepEqual(del.kind === "web" && del.options.body, {}, "DELETE may carry a body");
    const webhook = parseCliArgs(["https://example.test/x", "--header", "Content-Type:"]);
    assert.deepEqual(webhook.kind === "webhook" && webhook.options.headers, { "Content-Type": "" });
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
      [["http://a/x", "--header", "NoColon"], /NAME:VALUE/],
      [["http://a/x", "--header", "Bad Name:v"], /NAME:VALUE/],
      [["http://a/x", "--header", "X-A:1", "--header", "x-a:2"], /twice/],
      [["http://a/x", "--header", "Content-Length:5"], /sets Content-Length itself/],
      [["http://a/x", "--header", "Authorization:Bearer x", "--bearer", "t"], /use one/],
      [["http://a/x", "--web", "--http-request-timeout", "00:00:30"], /00:01:00 to 00:10:00/],
      [["http://a/x", "--web", "--http-request-timeout", "00:10:01"], /00:01:00 to 00:10:00/],
      [["http://a/x", "--web", "--http-request-timeout", "soon"], /--http-request-timeout/],
      [["http://a/x", "--http-request-timeout", "00:02:00"], /for the Web activity/],
      [["http://a/x", "--turn-off-async"], /for the Web activity/],
    ];
    for (const [argv, message] of cases) {
      assert.throws(() => parseCliArgs(argv), (err: unknown) => err instanceof UsageError && message.test(err.message), argv.join(" "));
    }
  });

  it("main: exit 64 on usage errors, help names CALLBACK_ALLOW_INSECURE", async () => {
    const usage = await runMain(["--timeout", "soon", "http://a/x"]);
    assert.equal(usage.code, EXIT_USAGE);
    assert.match(usage.stderr, /--timeout/);
    const help = await runMain(["--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /CALLBACK_ALLOW_INSECURE=true/);
    assert.match(help.stdout, /npm run adf -- http:\/\/localhost:5002\/simulate/);
  });

  it("runs a Webhook activity end to end and exits 0, 1 or 2", async () => {
    const ok = await serve(acceptsThenCallsBack({ Output: { done: true }, StatusCode: 200 }));
    const bad = await serve(acceptsThenCallsBack({ Error: { ErrorCode: "E1", Message: "nope" }, StatusCode: "500" }));
    const silent = await serve((_seen, res) => json(res, 202, {}));
    const succeeded = await runMain([ok.url, "--report-status-on-callback", "--body", '{"durationMs":1}']);
    assert.equal(succeeded.code, 0);
    assert.match(succeeded.stdout, /Webhook activity: Succeeded[\s\S]*"done": true/);
    const failed = await runMain([bad.url, "--report-status-on-callback"]);
    assert.equal(failed.code, 1);
    assert.match(failed.stdout, /Error code: E1/);
    const timedOut = await runMain([silent.url, "--timeout", "00:00:00.2"]);
    assert.equal(timedOut.code, 2);
    assert.match(timedOut.stdout, /Webhook activity: TimedOut/);
  });

  // Issue 25 item 7: a callback's Error fields and a non-2xx body were printed raw: ESC[1A ESC[2K
  // rewrote the "Failed" line into "Succeeded", and an OSC 52 clipboard write reached the terminal.
  describe("prints what a server sent so that it cannot reach the terminal", () => {
    /** Every character a terminal acts on, but newline and tab; and the bidi override. */
    // eslint-disable-next-line no-control-regex -- finding control characters is the point
    const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]/;
    const OSC52 = "\x1b]52;c;aGVsbG8=\x07";

    it("a callback's Error.ErrorCode and Message, and its Output", async () => {
      const hostile = await serve(
        acceptsThenCallsBack({
          StatusCode: 500,
          Error: { ErrorCode: "\x1b[1A\x1b[2KWebhook activity: Succeeded", Message: `${OSC52}it broke\nWebhook activity: Succeeded\r\x9b2K` },
          Output: { note: "\u202eslennahc\x9b31m" },
        }),
      );
      const { code, stdout, stderr } = await runMain([hostile.url, "--report-status-on-callback"]);
      assert.equal(code, 1);
      assert.doesNotMatch(stdout + stderr, CONTROL);
      const lines = stdout.split("\n");
      assert.equal(lines[0], "Webhook activity: Failed");
      assert.ok(!lines.includes("Webhook activity: Succeeded"), "no line of a message passes for the report's");
      assert.ok(lines.includes("  Error code: \\x1b[1A\\x1b[2KWebhook activity: Succeeded"), stdout);
      assert.ok(lines.includes("  Message:    \\x1b]52;c;aGVsbG8=\\x07it broke"), stdout);
      assert.ok(lines.includes("              Webhook activity: Succeeded\\x0d\\x9b2K"), stdout);
      assert.match(stdout, /"note": "\\u202eslennahc\\x9b31m"/);
    });

    it("a non-2xx answer's status text and body, and the headers and status texts of a Web activity", async () => {
      const failing = await serveRaw(() => rawAnswer("HTTP/1.1 500 Bad\x1b[2K", ["X-Evil: \x9b31m"], `${OSC52}\x1b[1A\x1b[2K\u202e`));
      const failed = await runMain([failing.url, "--web"]);
      assert.equal(failed.code, 1);
      assert.doesNotMatch(failed.stdout + failed.stderr, CONTROL);
      assert.match(failed.stdout, /The endpoint answered 500 Bad\\x1b\[2K: \\x1b\]52;c;aGVsbG8=\\x07\\x1b\[1A\\x1b\[2K\\u202e/);

      // A 202's status text is in a progress line; the final answer's headers are in the output.
      const polled = await serveRaw((seen) =>
        seen.method === "POST"
          ? rawAnswer("HTTP/1.1 202 Accepted\x1b[2K", ["Location: /status", "Retry-After: 0"])
          : rawAnswer("HTTP/1.1 200 OK\x9b", ["X-C1: \x9b31m", "Content-Type: application/json"], "{}"),
      );
      const succeeded = await runMain([polled.url, "--web"]);
      assert.equal(succeeded.code, 0, succeeded.stdout);
      assert.doesNotMatch(succeeded.stdout + succeeded.stderr, CONTROL);
      assert.match(succeeded.stdout, /"X-C1": "\\x9b31m"/);
      assert.match(succeeded.stdout, /final answer 200 OK\\x9b/);
    });
  });
});
