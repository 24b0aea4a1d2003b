/**
 * The emulator's HTTP client: node:http directly, so there is no keep-alive, no redirect is followed,
 * bodies are bounded and every request has a hard timeout.
 */
import http from "node:http";
import https from "node:https";

import { UsageError, type ActivityError, type Auth } from "./activity.js";
import { formatMs } from "./timespan.js";

export interface HttpAnswer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  /** The headers as sent, names in their own case: [name, value, name, value, …]. */
  rawHeaders: string[];
  body: Buffer;
  /** The body exceeded maxBytes; reading stopped there. */
  tooLarge: boolean;
}

export class RequestTimeoutError extends Error {}

const BODY_EXCERPT_CHARS = 2_000;

export function httpRequest(
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
        rawHeaders: res.rawHeaders,
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

export function authHeaders(auth: Auth | undefined): Record<string, string> {
  if (!auth) return {};
  if (auth.kind === "basic") {
    return { Authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString("base64")}` };
  }
  return { Authorization: `Bearer ${auth.token}` };
}

/**
 * The headers of a request: the emulator's defaults and the authentication, then the activity's own
 * `headers`, which replace a default of the same name (names compared without regard to case); an
 * empty value removes the header, e.g. `Content-Type:` for a pipeline that forgot to set it.
 */
export function requestHeaders(
  defaults: Record<string, string>,
  auth: Auth | undefined,
  custom: Record<string, string> | undefined,
): Record<string, string> {
  const headers: Record<string, string> = { ...defaults, ...authHeaders(auth) };
  for (const [name, value] of Object.entries(custom ?? {})) {
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
    if (value !== "") headers[name] = value;
  }
  return headers;
}

/**
 * The headers that cannot carry a credential: the fetch standard's CORS-safelisted request-header names
 * (less Content-Type, which a poll does not send). Anything else an activity sets may be one (Cookie,
 * X-Api-Key, x-functions-key, Ocp-Apim-Subscription-Key…), and the emulator cannot tell which.
 */
const CREDENTIAL_FREE = new Set(["accept", "accept-language", "content-language"]);

/** The activity's headers that may go to another origin: those in CREDENTIAL_FREE. */
export function credentialFreeHeaders(custom: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!custom) return undefined;
  return Object.fromEntries(Object.entries(custom).filter(([name]) => CREDENTIAL_FREE.has(name.toLowerCase())));
}

/** The body as parsed JSON if it parses, else as (truncated) text; undefined when empty. */
export function describeBody(body: Buffer): unknown {
  const text = body.toString("utf8");
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}… (${text.length} chars)` : text;
  }
}

export function bodyExcerpt(body: Buffer): string {
  const text = body.toString("utf8").trim();
  if (text === "") return "(empty body)";
  return text.length > BODY_EXCERPT_CHARS ? `${text.slice(0, BODY_EXCERPT_CHARS)}… (${text.length} chars)` : text;
}

/** A non-2xx answer fails either activity with EndpointError; undefined for a 2xx. */
export function endpointError(answer: Pick<HttpAnswer, "status" | "statusText" | "body">): ActivityError | undefined {
  if (answer.status >= 200 && answer.status <= 299) return undefined;
  return { errorCode: "EndpointError", message: `The endpoint answered ${answer.status} ${answer.statusText}: ${bodyExcerpt(answer.body)}` };
}

export function networkError(err: unknown, url: URL, timeoutMs: number): ActivityError {
  if (err instanceof RequestTimeoutError) {
    return { errorCode: "EndpointTimeout", message: `The endpoint ${url.origin} did not answer within ${formatMs(timeoutMs)}.` };
  }
  const e = err as NodeJS.ErrnoException;
  return {
    errorCode: "EndpointUnreachable",
    message: `Could not call ${url.origin}: ${e.code && !e.message.includes(e.code) ? `${e.code} ` : ""}${e.message}`,
  };
}

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After in seconds or as an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function validateUrl(url: string): URL {
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
