/**
 * A local Azure Data Factory emulator for people: it plays the part of a Webhook activity
 * (callback receiver on 127.0.0.1, POST with `callBackUri`, wait for the callback) or of a
 * Web activity (synchronous call, 202 + Location polling), then prints what ADF would show.
 *
 *   npm run adf -- <url> [--body JSON] [--timeout 00:10:00] [--report-status-on-callback]
 *                        [--basic user:pass | --bearer TOKEN] [--method POST] [--web]
 *
 * The logic lives in the exported `runWebhookActivity` and `runWebActivity`; `main` is the thin
 * command-line layer, run only when this file is executed directly.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";

// ---------------------------------------------------------------------------------------------
// Types

export type ActivityStatus = "Succeeded" | "Failed" | "TimedOut" | "Cancelled";

export type Auth = { kind: "basic"; username: string; password: string } | { kind: "bearer"; token: string };

export interface ActivityError {
  /** The error code ADF would show: the callback's `Error.ErrorCode`, or one of the emulator's own codes. */
  errorCode: string;
  message: string;
}

export interface EndpointAnswer {
  status: number;
  statusText: string;
  /** Milliseconds from the start of the activity to the answer. */
  ms: number;
  /** The answer's body: parsed JSON when it is JSON, else text (truncated), else undefined when empty. */
  body?: unknown;
}

export interface ActivityResult {
  activity: "Webhook" | "Web";
  status: ActivityStatus;
  error?: ActivityError;
  /** The activity's output as ADF would show it. */
  output?: unknown;
  /** The endpoint's (first) answer. */
  endpoint?: EndpointAnswer;
  /** Webhook: when the callback arrived (ms from the start) and its raw body. */
  callback?: { ms: number; body?: unknown };
  /** Web: the polls made after a 202 + Location, and the final answer. */
  polls?: number;
  finalAnswer?: EndpointAnswer;
  /** Webhook: the callBackUri with its secret token masked. */
  callBackUri?: string;
  totalMs: number;
}

interface CommonOptions {
  url: string;
  /** The configured JSON body (an object). Default `{}`. */
  body?: Record<string, unknown>;
  /** The activity timeout in ms (ADF's `timeout`). Default 10 minutes. */
  timeoutMs?: number;
  auth?: Auth;
  /** How long the endpoint has to answer each request, in ms. Default 1 minute, as ADF. */
  requestTimeoutMs?: number;
  /** Cancels the activity (status Cancelled). */
  signal?: AbortSignal;
  /** Progress lines for people (the CLI prints them on stderr). */
  onProgress?: (line: string) => void;
}

export interface WebhookOptions extends CommonOptions {
  /** ADF's `reportStatusOnCallBack`. */
  reportStatusOnCallback?: boolean;
  /** The largest callback body accepted, in bytes. Default 4 MB. */
  maxCallbackBytes?: number;
}

export interface WebOptions extends CommonOptions {
  method?: WebMethod;
  /** The wait between polls when a 202 has no Retry-After, in ms. Default 1 s. */
  pollIntervalMs?: number;
  /** The largest response accepted, in bytes. Default 4 MB, as ADF. */
  maxResponseBytes?: number;
}

export const WEB_METHODS = ["GET", "POST", "PUT", "DELETE"] as const;
export type WebMethod = (typeof WEB_METHODS)[number];

export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
const BODY_EXCERPT_CHARS = 2_000;

// ---------------------------------------------------------------------------------------------
// Timespans: ADF's `d.hh:mm:ss` / `hh:mm:ss` (fractional seconds allowed, as .NET's TimeSpan)

const TIMESPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?$/;

/** Parses `hh:mm:ss`, `d.hh:mm:ss` or either with fractional seconds (`00:00:00.5`) into ms. */
export function parseTimespan(text: string): number {
  const m = TIMESPAN.exec(text.trim());
  if (!m) throw new RangeError(`"${text}" is not a timespan: use hh:mm:ss or d.hh:mm:ss (e.g. 00:10:00, 1.00:00:00, 00:00:01.5)`);
  const [, d, h, min, s, frac] = m;
  const days = Number(d ?? 0);
  const hours = Number(h);
  const minutes = Number(min);
  const seconds = Number(s);
  if (hours > 23 || minutes > 59 || seconds > 59) {
    throw new RangeError(`"${text}" is not a timespan: hours must be 0-23, minutes and seconds 0-59`);
  }
  const fraction = frac ? Number(`0.${frac}`) : 0;
  const ms = Math.round((((days * 24 + hours) * 60 + minutes) * 60 + seconds + fraction) * 1000);
  if (ms <= 0) throw new RangeError(`"${text}" is not a usable timeout: it must be longer than zero`);
  return ms;
}

/** Formats ms back into ADF's timespan notation (`00:10:00`, `1.02:03:04`, `00:00:01.5`). */
export function formatTimespan(ms: number): string {
  const totalSeconds = Math.floor(ms / 1000);
  const fraction = ms % 1000;
  const days = Math.floor(totalSeconds / 86_400);
  const pad = (n: number) => String(n).padStart(2, "0");
  const hms = `${pad(Math.floor(totalSeconds / 3600) % 24)}:${pad(Math.floor(totalSeconds / 60) % 60)}:${pad(totalSeconds % 60)}`;
  const frac = fraction ? `.${String(fraction).padStart(3, "0").replace(/0+$/, "")}` : "";
  return `${days ? `${days}.` : ""}${hms}${frac}`;
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers (node:http directly: no keep-alive, no redirects, bounded bodies, hard timeouts)

interface HttpAnswer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** The body exceeded maxBytes; reading stopped there. */
  tooLarge: boolean;
}

class RequestTimeoutError extends Error {}

function httpRequest(
  url: URL,
  init: { method: string; headers: Record<string, string>; body?: string; timeoutMs: number; maxBytes: number; signal: AbortSignal },
): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const transport = url.protocol === "https:" ? https : http;
    const headers = { ...init.headers };
    if (init.body !== undefined) headers["Content-Length"] = String(Buffer.byteLength(init.body));
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const req = transport.request(url, { method: init.method, headers, agent: false, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const answer = (tooLarge: boolean) => ({
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? "",
        headers: res.headers,
        body: Buffer.concat(chunks),
        tooLarge,
      });
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > init.maxBytes) {
          finish(() => resolve(answer(true)));
          res.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on("end", () => finish(() => resolve(answer(false))));
      res.on("error", (err) => finish(() => reject(err)));
    });
    const timer = setTimeout(() => {
      finish(() => reject(new RequestTimeoutError(`no complete answer within ${formatMs(init.timeoutMs)}`)));
      req.destroy();
    }, init.timeoutMs);
    req.on("error", (err) => finish(() => reject(err)));
    req.end(init.body);
  });
}

function authHeaders(auth: Auth | undefined): Record<string, string> {
  if (!auth) return {};
  if (auth.kind === "basic") {
    return { Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` };
  }
  return { Authorization: `Bearer ${auth.token}` };
}

/** The body as parsed JSON if it parses, else as (truncated) text; undefined when empty. */
function describeBody(body: Buffer): unknown {
  const text = body.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}… (${text.length} chars)` : text;
  }
}

function bodyExcerpt(body: Buffer): string {
  const text = body.toString("utf8").trim();
  if (text === "") return "(empty body)";
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}… (${text.length} chars)` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function networkError(err: unknown, url: URL, timeoutMs: number): ActivityError {
  if (err instanceof RequestTimeoutError) {
    return { errorCode: "EndpointTimeout", message: `The endpoint ${url.origin} did not answer within ${formatMs(timeoutMs)}.` };
  }
  const e = err as NodeJS.ErrnoException;
  return {
    errorCode: "EndpointUnreachable",
    message: `Could not call ${url.origin}: ${e.code && !e.message.includes(e.code) ? `${e.code} ` : ""}${e.message}`,
  };
}

// ---------------------------------------------------------------------------------------------
// Waiting, bounded by the activity's deadline and the caller's signal

type Raced<T> = { kind: "value"; value: T } | { kind: "error"; error: unknown } | { kind: "timeout" } | { kind: "cancelled" };

function race<T>(work: Promise<T>, deadline: number, signal: AbortSignal): Promise<Raced<T>> {
  return new Promise<Raced<T>>((resolve) => {
    if (signal.aborted) return resolve({ kind: "cancelled" });
    const onAbort = () => done({ kind: "cancelled" });
    const timer = setTimeout(() => done({ kind: "timeout" }), Math.max(0, deadline - performance.now()));
    function done(outcome: Raced<T>) {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      resolve(outcome);
    }
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => done({ kind: "value", value }),
      (error: unknown) => done({ kind: "error", error }),
    );
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** An AbortController that follows the caller's signal, aborted in `finally` to end anything in flight. */
function linkedController(signal: AbortSignal | undefined): AbortController {
  const controller = new AbortController();
  if (signal) {
    if (signal.aborted) controller.abort();
    else signal.addEventListener("abort", () => controller.abort(), { once: true });
  }
  return controller;
}

function validateUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`"${url}" is not an absolute URL (e.g. http://localhost:5002/helloworld)`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`"${url}" must be an http or https URL`);
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// The callback receiver

interface Callback {
  ms: number;
  /** Parsed JSON, or undefined when the body was malformed. */
  body?: unknown;
  malformed?: string;
}

interface Receiver {
  uri: string;
  maskedUri: string;
  /** Resolves with the first callback (valid or malformed). */
  first: Promise<Callback>;
  close(): Promise<void>;
}

export function maskToken(token: string): string {
  return `${token.slice(0, 4)}…`;
}

async function startReceiver(start: number, maxBytes: number, onProgress: (line: string) => void): Promise<Receiver> {
  const token = randomBytes(24).toString("base64url");
  const path = `/callback/${token}`;
  let resolveFirst!: (cb: Callback) => void;
  const first = new Promise<Callback>((resolve) => (resolveFirst = resolve));
  let received = false;

  const reply = (res: http.ServerResponse, status: number, body: object) => {
    res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    if (pathname !== path) return reply(res, 404, { error: "Not found" });
    if (req.method !== "POST") {
      res.setHeader("Allow", "POST");
      return reply(res, 405, { error: "Method not allowed: the callBackUri takes a POST" });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on("end", () => {
      const ms = performance.now() - start;
      let callback: Callback;
      if (tooLarge) {
        callback = { ms, malformed: `the callback body is larger than ${maxBytes} bytes` };
        reply(res, 413, { error: callback.malformed });
      } else {
        try {
          callback = { ms, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown };
          reply(res, 200, { status: received ? "already received" : "received" });
        } catch (err) {
          callback = { ms, malformed: `the callback body is not JSON (${(err as Error).message})` };
          reply(res, 400, { error: callback.malformed });
        }
      }
      if (received) {
        onProgress(`A further callback arrived after ${formatMs(ms)}; only the first one counts.`);
        return;
      }
      received = true;
      // Settle once the answer is written, so that closing the receiver cannot cut it off
      // (a caller that saw its callback reset would retry it).
      res.once("close", () => resolveFirst(callback));
    });
    req.on("error", () => res.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}/callback/`;
  return {
    uri: base + token,
    maskedUri: base + maskToken(token),
    first,
    close: () =>
      new Promise<void>((resolve) => {
        // Idle keep-alive connections go at once; a request still being answered gets a moment.
        const force = setTimeout(() => server.closeAllConnections(), 500);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------
// The Webhook activity

/** Interprets a callback body as ADF does, with or without `reportStatusOnCallBack`. */
export function interpretCallback(
  body: unknown,
  reportStatusOnCallback: boolean,
): Pick<ActivityResult, "status" | "error" | "output"> {
  if (!reportStatusOnCallback) return { status: "Succeeded", output: body };
  if (!isObject(body)) {
    return {
      status: "Failed",
      error: { errorCode: "InvalidCallback", message: "With reportStatusOnCallBack the callback body must be a JSON object." },
    };
  }
  const output = body.Output;
  const raw = body.StatusCode;
  let statusCode = 200;
  if (raw !== undefined && raw !== null) {
    statusCode = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN;
    if (!Number.isFinite(statusCode)) {
      return {
        status: "Failed",
        output,
        error: { errorCode: "InvalidCallback", message: `The callback's StatusCode ${JSON.stringify(raw)} is not a number.` },
      };
    }
  }
  if (statusCode >= 400) {
    const error = isObject(body.Error) ? body.Error : {};
    return {
      status: "Failed",
      output,
      error: {
        errorCode: error.ErrorCode !== undefined ? String(error.ErrorCode) : String(statusCode),
        message: error.Message !== undefined ? String(error.Message) : `The callback reported StatusCode ${statusCode}.`,
      },
    };
  }
  return { status: "Succeeded", output };
}

/**
 * Runs a Webhook activity: starts a callback receiver on 127.0.0.1, POSTs the body plus
 * `callBackUri` to the URL, then waits (up to the timeout) for the callback.
 */
export async function runWebhookActivity(options: WebhookOptions): Promise<ActivityResult> {
  const start = performance.now();
  const url = validateUrl(options.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const deadline = start + timeoutMs;
  const progress = options.onProgress ?? (() => undefined);
  const controller = linkedController(options.signal);
  const receiver = await startReceiver(start, options.maxCallbackBytes ?? MAX_RESPONSE_BYTES, progress);
  const result: ActivityResult = { activity: "Webhook", status: "Failed", callBackUri: receiver.maskedUri, totalMs: 0 };
  const end = (fields: Partial<ActivityResult>): ActivityResult =>
    Object.assign(result, fields, { totalMs: performance.now() - start });
  try {
    progress(`Callback receiver listening on ${receiver.maskedUri}`);
    progress(`POST ${url.href} (the endpoint has ${formatMs(Math.min(requestTimeoutMs, timeoutMs))} to answer)`);
    const payload = JSON.stringify({ ...(options.body ?? {}), callBackUri: receiver.uri });
    const call = httpRequest(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...authHeaders(options.auth) },
      body: payload,
      timeoutMs: requestTimeoutMs,
      maxBytes: MAX_RESPONSE_BYTES,
      signal: controller.signal,
    });
    const answered = await race(call, deadline, controller.signal);
    if (answered.kind === "timeout") return end({ status: "TimedOut", error: timedOut(timeoutMs, "the endpoint's answer") });
    if (answered.kind === "cancelled") return end({ status: "Cancelled", error: cancelled() });
    if (answered.kind === "error") return end({ status: "Failed", error: networkError(answered.error, url, requestTimeoutMs) });

    const answer = answered.value;
    result.endpoint = {
      status: answer.status,
      statusText: answer.statusText,
      ms: performance.now() - start,
      body: describeBody(answer.body),
    };
    if (answer.status < 200 || answer.status > 299) {
      return end({
        status: "Failed",
        error: {
          errorCode: "EndpointError",
          message: `The endpoint answered ${answer.status} ${answer.statusText}: ${bodyExcerpt(answer.body)}`,
        },
      });
    }
    progress(
      `The endpoint answered ${answer.status} ${answer.statusText} after ${formatMs(result.endpoint.ms)}; ` +
        `waiting up to ${formatTimespan(timeoutMs)} (from the start) for the callback…`,
    );

    const waited = await race(receiver.first, deadline, controller.signal);
    if (waited.kind === "timeout") return end({ status: "TimedOut", error: timedOut(timeoutMs, "a callback") });
    if (waited.kind === "cancelled") return end({ status: "Cancelled", error: cancelled() });
    if (waited.kind === "error") throw waited.error; // the receiver never rejects
    const callback = waited.value;
    result.callback = { ms: callback.ms, body: callback.body };
    if (callback.malformed !== undefined) {
      return end({ status: "Failed", error: { errorCode: "InvalidCallback", message: `The callback was refused: ${callback.malformed}.` } });
    }
    return end(interpretCallback(callback.body, options.reportStatusOnCallback ?? false));
  } finally {
    controller.abort();
    await receiver.close();
  }
}

function timedOut(timeoutMs: number, what: string): ActivityError {
  return {
    errorCode: "ActivityTimedOut",
    message: `The activity timed out after ${formatTimespan(timeoutMs)} waiting for ${what}.`,
  };
}

function cancelled(): ActivityError {
  return { errorCode: "ActivityCancelled", message: "The activity was cancelled." };
}

// ---------------------------------------------------------------------------------------------
// The Web activity

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Runs a Web activity: a synchronous request whose answer must be a 2xx JSON object of at most
 * 4 MB; a 202 with a Location header is polled (GET) until an answer other than 202.
 */
export async function runWebActivity(options: WebOptions): Promise<ActivityResult> {
  const start = performance.now();
  let url = validateUrl(options.url);
  const method = options.method ?? "POST";
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const pollIntervalMs = options.pollIntervalMs ?? 1000;
  const deadline = start + timeoutMs;
  const progress = options.onProgress ?? (() => undefined);
  const controller = linkedController(options.signal);
  const result: ActivityResult = { activity: "Web", status: "Failed", polls: 0, totalMs: 0 };
  const end = (fields: Partial<ActivityResult>): ActivityResult =>
    Object.assign(result, fields, { totalMs: performance.now() - start });
  const headers = { Accept: "application/json", ...authHeaders(options.auth) };
  try {
    let request: { method: string; body?: string } =
      method === "GET" || method === "DELETE"
        ? { method }
        : { method, body: JSON.stringify(options.body ?? {}) };
    progress(`${method} ${url.href} (the endpoint has ${formatMs(Math.min(requestTimeoutMs, timeoutMs))} to answer)`);
    for (;;) {
      const call = httpRequest(url, {
        method: request.method,
        headers: request.body !== undefined ? { ...headers, "Content-Type": "application/json" } : headers,
        body: request.body,
        timeoutMs: requestTimeoutMs,
        maxBytes,
        signal: controller.signal,
      });
      const answered = await race(call, deadline, controller.signal);
      if (answered.kind === "timeout") return end({ status: "TimedOut", error: timedOut(timeoutMs, "the endpoint's answer") });
      if (answered.kind === "cancelled") return end({ status: "Cancelled", error: cancelled() });
      if (answered.kind === "error") return end({ status: "Failed", error: networkError(answered.error, url, requestTimeoutMs) });
      const answer = answered.value;
      const seen: EndpointAnswer = {
        status: answer.status,
        statusText: answer.statusText,
        ms: performance.now() - start,
        body: answer.tooLarge ? undefined : describeBody(answer.body),
      };
      result.endpoint ??= seen;
      result.finalAnswer = seen;

      const location = answer.headers.location;
      if (answer.status === 202 && location) {
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          return end({ status: "Failed", error: { errorCode: "InvalidResponse", message: `The Location header "${location}" is not a URL.` } });
        }
        const retryAfter = parseRetryAfter(headerValue(answer.headers["retry-after"]));
        const wait = retryAfter ?? pollIntervalMs;
        progress(`202 Accepted after ${formatMs(seen.ms)}; polling ${next.href} in ${formatMs(wait)}…`);
        const slept = await race(sleep(wait), deadline, controller.signal);
        if (slept.kind === "timeout") return end({ status: "TimedOut", error: timedOut(timeoutMs, "an answer other than 202") });
        if (slept.kind === "cancelled") return end({ status: "Cancelled", error: cancelled() });
        url = next;
        request = { method: "GET" };
        result.polls = (result.polls ?? 0) + 1;
        continue;
      }

      if (answer.status < 200 || answer.status > 299) {
        return end({
          status: "Failed",
          error: {
            errorCode: "EndpointError",
            message: `The endpoint answered ${answer.status} ${answer.statusText}: ${bodyExcerpt(answer.body)}`,
          },
        });
      }
      if (answer.tooLarge) {
        return end({
          status: "Failed",
          error: { errorCode: "ResponseTooLarge", message: `The response is larger than ${maxBytes} bytes (ADF's limit is 4 MB).` },
        });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(answer.body.toString("utf8"));
      } catch {
        return end({
          status: "Failed",
          error: { errorCode: "InvalidResponse", message: `The response is not JSON: ${bodyExcerpt(answer.body)}` },
        });
      }
      if (!isObject(parsed)) {
        return end({
          status: "Failed",
          error: {
            errorCode: "InvalidResponse",
            message: `The response must be a JSON object, not ${Array.isArray(parsed) ? "an array" : parsed === null ? "null" : typeof parsed}.`,
          },
        });
      }
      return end({ status: "Succeeded", output: parsed });
    }
  } finally {
    controller.abort();
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

// ---------------------------------------------------------------------------------------------
// The report

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms - minutes * 60_000) / 100) / 10;
  return seconds ? `${minutes} min ${seconds} s` : `${minutes} min`;
}

function indent(text: string, by = "  "): string {
  return text
    .split("\n")
    .map((line) => by + line)
    .join("\n");
}

/** What ADF would show: status, error, output, timings. */
export function formatReport(result: ActivityResult): string {
  const lines: string[] = [];
  lines.push(`${result.activity} activity: ${result.status}`);
  if (result.error) {
    lines.push(`  Error code: ${result.error.errorCode}`);
    lines.push(`  Message:    ${result.error.message}`);
  }
  lines.push("Output:");
  lines.push(result.output === undefined ? "  (none)" : indent(JSON.stringify(result.output, null, 2)));
  lines.push("Timings:");
  if (result.endpoint) {
    lines.push(`  endpoint answered ${result.endpoint.status} ${result.endpoint.statusText} after ${formatMs(result.endpoint.ms)}`);
  } else if (result.status !== "Cancelled") {
    lines.push("  the endpoint did not answer");
  }
  if (result.activity === "Webhook") {
    lines.push(result.callback ? `  callback received after ${formatMs(result.callback.ms)}` : "  no callback received");
  }
  if (result.polls && result.finalAnswer) {
    lines.push(
      `  ${result.polls} poll${result.polls === 1 ? "" : "s"}; final answer ${result.finalAnswer.status} ${result.finalAnswer.statusText} after ${formatMs(result.finalAnswer.ms)}`,
    );
  }
  lines.push(`  total ${formatMs(result.totalMs)}`);
  if (result.callBackUri) lines.push(`callBackUri: ${result.callBackUri} (token masked)`);
  return lines.join("\n");
}

/** Exit codes: 0 Succeeded, 1 Failed, 2 TimedOut, 130 Cancelled (64 is a usage error). */
export function exitCodeFor(status: ActivityStatus): number {
  switch (status) {
    case "Succeeded":
      return 0;
    case "Failed":
      return 1;
    case "TimedOut":
      return 2;
    case "Cancelled":
      return 130;
  }
}

// ---------------------------------------------------------------------------------------------
// The command line

export const EXIT_USAGE = 64;

export class UsageError extends Error {}

export const HELP = `Usage: npm run adf -- <url> [options]

A local Azure Data Factory emulator: it calls <url> exactly as a Data Factory activity does
and prints what ADF would show (Succeeded, Failed with its error, or TimedOut), the output
and the timings.

Webhook activity (the default): starts a callback receiver on http://127.0.0.1 (random port,
secret path), POSTs the body plus "callBackUri" with Content-Type application/json, expects a
2xx answer within 1 minute, then waits up to --timeout for a POST to the callBackUri.

Web activity (--web): a synchronous call whose answer must be a 2xx JSON object (not an
array) of at most 4 MB within 1 minute; a 202 with a Location header is polled (GET,
honouring Retry-After, else every second) until an answer other than 202, up to --timeout.

Options:
  --body JSON                   the activity's body, a JSON object (default {})
  --timeout TIMESPAN            the activity timeout, d.hh:mm:ss or hh:mm:ss (default 00:10:00;
                                fractions allowed, e.g. 00:00:01.5)
  --report-status-on-callback   Webhook: read StatusCode, Output and Error from the callback
                                (StatusCode >= 400 fails the activity with Error.ErrorCode and
                                Error.Message); without it any callback succeeds with its body
  --basic USER:PASS             send Basic authentication
  --bearer TOKEN                send "Authorization: Bearer TOKEN" (e.g. an Entra ID token,
                                as ADF's managed identity authentication does)
  --method METHOD               Web activity: GET, POST (default), PUT or DELETE
  --web                         run a Web activity instead of a Webhook activity
  -h, --help                    show this help

Exit codes: 0 Succeeded, 1 Failed, 2 TimedOut, 64 usage error, 130 cancelled (Ctrl-C).

Calling our API: it only calls back https URIs on the Data Factory domains, so to call back
the emulator's http://127.0.0.1 receiver it must run with CALLBACK_ALLOW_INSECURE=true
(for local testing only). For example:

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
        timeout: { type: "string" },
        "report-status-on-callback": { type: "boolean" },
        basic: { type: "string" },
        bearer: { type: "string" },
        method: { type: "string" },
        web: { type: "boolean" },
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

  let timeoutMs: number | undefined;
  if (values.timeout !== undefined) {
    try {
      timeoutMs = parseTimespan(values.timeout);
    } catch (err) {
      throw new UsageError(`--timeout: ${(err as Error).message}`);
    }
  }

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

  const method = values.method?.toUpperCase();
  if (values.web) {
    if (method !== undefined && !(WEB_METHODS as readonly string[]).includes(method)) {
      throw new UsageError(`--method must be one of ${WEB_METHODS.join(", ")}`);
    }
    if (values["report-status-on-callback"]) throw new UsageError("--report-status-on-callback is for the Webhook activity, not --web");
    if (body !== undefined && (method === "GET" || method === "DELETE")) throw new UsageError(`--body is not sent with ${method}`);
    return { kind: "web", options: { url, body, timeoutMs, auth, method: method as WebMethod | undefined } };
  }
  if (method !== undefined && method !== "POST") {
    throw new UsageError("the Webhook activity always POSTs; use --web for a Web activity with another method");
  }
  return { kind: "webhook", options: { url, body, timeoutMs, auth, reportStatusOnCallback: values["report-status-on-callback"] ?? false } };
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
  const onProgress = (line: string) => io.stderr(`${line}\n`);
  const result =
    command.kind === "web"
      ? await runWebActivity({ ...command.options, onProgress, signal })
      : await runWebhookActivity({ ...command.options, onProgress, signal });
  io.stdout(`${formatReport(result)}\n`);
  return exitCodeFor(result.status);
}

if (require.main === module) {
  const controller = new AbortController();
  process.once("SIGINT", () => controller.abort());
  main(process.argv.slice(2), undefined, controller.signal).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`adf: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = 70;
    },
  );
}
