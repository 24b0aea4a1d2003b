/**
 * The command line of the local Azure Data Factory emulator: it plays the part of a Webhook
 * activity (callback receiver on 127.0.0.1, POST with `callBackUri`, wait for the callback) or of a
 * Web activity (synchronous call, 202 + Location polling), then prints what ADF would show.
 *
 *   npm run adf -- <url> [--body JSON] [--header K:V]… [--timeout 00:10:00] [--report-status-on-callback]
 *                        [--basic user:pass | --bearer TOKEN]
 *                        [--web [--method PATCH] [--http-request-timeout 00:05:00] [--turn-off-async]]
 *                        [--receiver-listen HOST[:PORT]] [--receiver-host HOST[:PORT]]
 *
 * The activities are `runWebhookActivity` (webhook.ts) and `runWebActivity` (web.ts); this file only
 * reads the arguments, runs one and prints the report (report.ts).
 */
import { parseArgs } from "node:util";

import { isObject, MAX_HTTP_REQUEST_TIMEOUT_MS, MIN_HTTP_REQUEST_TIMEOUT_MS, UsageError, type Auth } from "./activity.js";
import { validateUrl } from "./http.js";
import { printableLine, printableText } from "./printable.js";
import { exitCodeFor, formatReport } from "./report.js";
import { parseTimespan } from "./timespan.js";
import { runWebActivity, WEB_METHODS, type WebMethod, type WebOptions } from "./web.js";
import type { ReceiverAddress } from "./receiver.js";
import { runWebhookActivity, type WebhookOptions } from "./webhook.js";

export const EXIT_USAGE = 64;

export const HELP = `Usage: npm run adf -- <url> [options]

A local Azure Data Factory emulator: it calls <url> exactly as a Data Factory activity does
and prints what ADF would show (Succeeded, Failed with its error, or TimedOut), the output
and the timings.

Webhook activity (the default): starts a callback receiver on http://127.0.0.1 (random port,
secret path), POSTs the body plus "callBackUri" with Content-Type application/json, expects a
2xx answer within 1 minute, then waits up to --timeout (default 00:10:00) for a POST to the
callBackUri. Any callback completes the activity, also one with an empty or non-JSON body.

Web activity (--web): a synchronous call whose answer must be a 2xx JSON object (not an
array) of at most 4 MB within --http-request-timeout (default 00:01:00). A 202 with a Location
header is polled (GET, every second, later when Retry-After asks for more) until an answer
other than 202, up to --timeout (the activity policy's timeout, default 7.00:00:00) and 10,000
polls, unless --turn-off-async. A Location on another origin (another host or port, or https to
http) is polled without the authentication and the headers that may carry a credential. The
output carries the final answer's headers in ADFWebActivityResponseHeaders.

What a server sends (error codes, messages, bodies, headers) is printed with its control
characters shown as escapes such as \x1b, so that it cannot act on the terminal.

Options:
  --body JSON                   the activity's body, a JSON object (default {})
  --header NAME:VALUE           a header of the activity's "headers" (repeatable); it replaces the
                                emulator's default of that name; "Content-Type:" sends none
  --timeout TIMESPAN            the activity timeout, d.hh:mm:ss or hh:mm:ss (fractions allowed,
                                e.g. 00:00:01.5)
  --report-status-on-callback   Webhook: read StatusCode, Output and Error from the callback (field
                                names in any case; StatusCode >= 400 fails the activity with
                                Error.ErrorCode and Error.Message); without it any callback succeeds
                                with its body as the output
  --basic USER:PASS             send Basic authentication
  --bearer TOKEN                send "Authorization: Bearer TOKEN" (e.g. an Entra ID token,
                                as ADF's managed identity authentication does)
  --web                         run a Web activity instead of a Webhook activity
  --method METHOD               Web activity: GET, POST (default), PUT, PATCH or DELETE
  --http-request-timeout TIMESPAN
                                Web activity: how long the endpoint has to answer each request,
                                00:01:00 (default) to 00:10:00
  --turn-off-async              Web activity: a 202 is the final answer; its Location is not polled
  --receiver-listen HOST[:PORT] Webhook: where the callback receiver listens (default 127.0.0.1 and a
                                random port), e.g. 0.0.0.0:8099 for an API in a local cluster
  --receiver-host HOST[:PORT]   Webhook: the host (and port) callBackUri names, as the endpoint reaches
                                the receiver (default: the listening address and port)
  -h, --help                    show this help

Exit codes: 0 Succeeded, 1 Failed, 2 TimedOut, 64 usage error, 130 cancelled (Ctrl-C).

Calling our API: it only calls back https URIs on the Data Factory domains, so to call back
the emulator's http://127.0.0.1 receiver it must run with CALLBACK_ALLOW_INSECURE=true
(http and loopback only, for local testing). An API in a local cluster cannot reach
127.0.0.1 on this machine: run the receiver where its pods can reach it and set the API's
CALLBACK_TEST_RECEIVER to that one origin, e.g. --receiver-listen 0.0.0.0:8099
--receiver-host 172.18.0.1 with CALLBACK_TEST_RECEIVER=http://172.18.0.1:8099. For example:

  CALLBACK_ALLOW_INSECURE=true npm start                    # terminal 1
  npm run adf -- http://localhost:5002/simulate \\
    --body '{"durationMs":2000}' --report-status-on-callback # terminal 2
  npm run adf -- http://localhost:5002/simulate --report-status-on-callback \\
    --body '{"fail":true,"statusCode":500,"errorCode":"Boom","message":"it broke"}'
  npm run adf -- http://localhost:5002/helloworld --web
`;

export type CliCommand =
  | { kind: "help" }
  | { kind: "webhook"; options: WebhookOptions }
  | { kind: "web"; options: WebOptions };

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** `--header NAME:VALUE` values into the activity's headers; throws UsageError on a bad one. */
function parseHeaders(values: string[] | undefined): Record<string, string> | undefined {
  if (!values || values.length === 0) return undefined;
  const headers: Record<string, string> = {};
  const seen = new Set<string>();
  for (const item of values) {
    const colon = item.indexOf(":");
    const name = colon < 0 ? "" : item.slice(0, colon).trim();
    const value = colon < 0 ? "" : item.slice(colon + 1).trim();
    if (!HEADER_NAME.test(name)) throw new UsageError(`--header takes NAME:VALUE with a valid header name, got "${item}"`);
    if (/[\r\n\0]/.test(value)) throw new UsageError(`--header ${name}: the value must be on one line`);
    if (seen.has(name.toLowerCase())) throw new UsageError(`--header ${name} is given twice (ADF's headers are a dictionary)`);
    if (name.toLowerCase() === "content-length" || name.toLowerCase() === "host") {
      throw new UsageError(`--header ${name}: the emulator sets ${name} itself`);
    }
    seen.add(name.toLowerCase());
    headers[name] = value;
  }
  return headers;
}

function parseTimespanOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseTimespan(value);
  } catch (err) {
    throw new UsageError(`${flag}: ${(err as Error).message}`);
  }
}

/** Parses the command line; throws UsageError with a message for people. */
export function parseCliArgs(argv: string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        body: { type: "string" },
        header: { type: "string", multiple: true },
        timeout: { type: "string" },
        "report-status-on-callback": { type: "boolean" },
        basic: { type: "string" },
        bearer: { type: "string" },
        method: { type: "string" },
        web: { type: "boolean" },
        "http-request-timeout": { type: "string" },
        "turn-off-async": { type: "boolean" },
        "receiver-listen": { type: "string" },
        "receiver-host": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help" };
  if (positionals.length === 0) throw new UsageError("the URL to call is missing");
  if (positionals.length > 1) throw new UsageError(`one URL only, got ${positionals.length}: ${positionals.join(" ")}`);
  const url = validateUrl(positionals[0]).href;

  let body: Record<string, unknown> | undefined;
  if (values.body !== undefined) {
    let value: unknown;
    try {
      value = JSON.parse(values.body);
    } catch (err) {
      throw new UsageError(`--body is not JSON: ${(err as Error).message}`);
    }
    if (!isObject(value)) throw new UsageError("--body must be a JSON object, e.g. '{\"durationMs\":2000}'");
    if ("callBackUri" in value) throw new UsageError("--body must not set callBackUri: the emulator adds it, as ADF does");
    body = value;
  }

  const timeoutMs = parseTimespanOption("--timeout", values.timeout);
  const headers = parseHeaders(values.header);

  if (values.basic !== undefined && values.bearer !== undefined) throw new UsageError("use --basic or --bearer, not both");
  let auth: Auth | undefined;
  if (values.basic !== undefined) {
    const colon = values.basic.indexOf(":");
    if (colon <= 0) throw new UsageError("--basic takes USER:PASS");
    auth = { kind: "basic", username: values.basic.slice(0, colon), password: values.basic.slice(colon + 1) };
  }
  if (values.bearer !== undefined) {
    if (values.bearer.trim() === "") throw new UsageError("--bearer takes a token");
    auth = { kind: "bearer", token: values.bearer.trim() };
  }
  if (auth && headers && Object.keys(headers).some((name) => name.toLowerCase() === "authorization")) {
    throw new UsageError(`--header Authorization and --${auth.kind} both set Authorization: use one`);
  }

  const method = values.method?.toUpperCase();
  if (values.web) {
    if (method !== undefined && !(WEB_METHODS as readonly string[]).includes(method)) {
      throw new UsageError(`--method must be one of ${WEB_METHODS.join(", ")}`);
    }
    if (values["report-status-on-callback"]) throw new UsageError("--report-status-on-callback is for the Webhook activity, not --web");
    for (const flag of ["receiver-listen", "receiver-host"] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is for the Webhook activity's callback receiver, not --web`);
    }
    if (body !== undefined && method === "GET") throw new UsageError("--body is not sent with GET");
    const requestTimeoutMs = parseTimespanOption("--http-request-timeout", values["http-request-timeout"]);
    if (requestTimeoutMs !== undefined && (requestTimeoutMs < MIN_HTTP_REQUEST_TIMEOUT_MS || requestTimeoutMs > MAX_HTTP_REQUEST_TIMEOUT_MS)) {
      throw new UsageError("--http-request-timeout must be from 00:01:00 to 00:10:00, as ADF's httpRequestTimeout");
    }
    return {
      kind: "web",
      options: {
        url,
        body,
        headers,
        timeoutMs,
        auth,
        method: method as WebMethod | undefined,
        requestTimeoutMs,
        turnOffAsync: values["turn-off-async"] ?? false,
      },
    };
  }
  if (method !== undefined && method !== "POST") {
    throw new UsageError("the Webhook activity always POSTs; use --web for a Web activity with another method");
  }
  const receiver = parseReceiverAddress(values["receiver-listen"], values["receiver-host"]);
  for (const flag of ["http-request-timeout", "turn-off-async"] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} is for the Web activity (--web); a Webhook activity's endpoint always has 1 minute`);
  }
  return {
    kind: "webhook",
    options: { url, body, headers, timeoutMs, auth, reportStatusOnCallback: values["report-status-on-callback"] ?? false, ...(receiver ? { receiver } : {}) },
  };
}

/** `HOST[:PORT]`, an IPv6 address in brackets (`[fd00::1]:8099`); throws UsageError otherwise. */
function parseHostPort(flag: string, value: string): { host: string; port?: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+)(?::(\d{1,5}))?$/.exec(value.trim());
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match || (port !== undefined && port > 65535)) throw new UsageError(`${flag} takes HOST or HOST:PORT (an IPv6 address in brackets), got "${value}"`);
  const host = match[1]!.replace(/^\[|\]$/g, "");
  return port === undefined ? { host } : { host, port };
}

/** --receiver-listen and --receiver-host into the receiver's address, or undefined for the default (127.0.0.1). */
function parseReceiverAddress(listen: string | undefined, advertised: string | undefined): ReceiverAddress | undefined {
  if (listen === undefined && advertised === undefined) return undefined;
  const address: ReceiverAddress = {};
  if (listen !== undefined) {
    const { host, port } = parseHostPort("--receiver-listen", listen);
    address.listenHost = host;
    if (port !== undefined) address.listenPort = port;
  }
  if (advertised !== undefined) {
    const { host, port } = parseHostPort("--receiver-host", advertised);
    if (host === "0.0.0.0" || host === "::") throw new UsageError("--receiver-host must be an address the endpoint can reach, not 0.0.0.0 or ::");
    address.host = host;
    if (port !== undefined) address.port = port;
  } else if (address.listenHost === "0.0.0.0" || address.listenHost === "::") {
    throw new UsageError(`--receiver-listen ${listen} listens on every address: say which one callBackUri names with --receiver-host`);
  }
  return address;
}

interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The command line: parses, runs the activity, prints the report, returns the exit code. */
export async function main(
  argv: string[] = process.argv.slice(2),
  io: Io = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
  signal?: AbortSignal,
): Promise<number> {
  let command: CliCommand;
  try {
    command = parseCliArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr(`adf: ${err.message}\nRun "npm run adf -- --help" for usage.\n`);
    return EXIT_USAGE;
  }
  if (command.kind === "help") {
    io.stdout(HELP);
    return 0;
  }
  // Progress lines name what the endpoint sent (its status text, a Location): printed as one line each.
  const onProgress = (line: string) => io.stderr(`${printableLine(line)}\n`);
  const result =
    command.kind === "web"
      ? await runWebActivity({ ...command.options, onProgress, signal })
      : await runWebhookActivity({ ...command.options, onProgress, signal });
  io.stdout(`${formatReport(result)}\n`);
  return exitCodeFor(result.status);
}

// Run as a command (not imported by a test).
if (import.meta.filename === process.argv[1]) {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  main(process.argv.slice(2), undefined, controller.signal).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`adf: ${printableText((err as Error).stack ?? String(err))}\n`);
      process.exitCode = 70;
    },
  );
}
