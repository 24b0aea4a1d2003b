/**
 * The Web activity: a synchronous request whose answer must be a 2xx JSON object of at most 4 MB,
 * within `httpRequestTimeout` (1 minute by default). A 202 with a Location header is polled (GET)
 * until an answer other than 202, unless `turnOffAsync` is set. The output is the answer's object
 * plus `ADFWebActivityResponseHeaders`, the final answer's headers.
 *
 * The endpoint steers the polling, so it is bounded whatever it sends: a wait of at least
 * `pollIntervalMs` between polls (Retry-After may lengthen it, never shorten it), at most `maxPolls`
 * polls, and the activity's credentials only while the polls stay on the activity's origin.
 */
import { performance } from "node:perf_hooks";

import {
  cancelled,
  DEFAULT_POLICY_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  isObject,
  linkedController,
  MAX_RESPONSE_BYTES,
  MAX_TIMER_MS,
  race,
  sleep,
  timedOut,
  type ActivityResult,
  type CommonOptions,
  type EndpointAnswer,
} from "./activity.js";
import {
  bodyExcerpt,
  credentialFreeHeaders,
  describeBody,
  endpointError,
  headerValue,
  httpRequest,
  networkError,
  parseRetryAfter,
  requestHeaders,
  validateUrl,
} from "./http.js";
import { formatMs } from "./timespan.js";

export const WEB_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;
export type WebMethod = (typeof WEB_METHODS)[number];

/**
 * The wait between polls, and the least one: ADF documents neither its interval nor whether it reads
 * Retry-After, so the emulator polls every second, later when Retry-After asks for more. Without the
 * floor, `Retry-After: 0` and a Location naming itself made about 2,800 polls in 5 s.
 */
export const DEFAULT_POLL_INTERVAL_MS = 1000;
/**
 * The most polls one activity makes (the emulator's own bound; ADF documents only the activity's
 * timeout, 7 days by default): 10,000 is about 2 h 47 min at one poll a second, and lets a job that
 * asks for a poll a minute (Retry-After: 60) run for almost the 7 days (6.9).
 */
export const DEFAULT_MAX_POLLS = 10_000;

export interface WebOptions extends CommonOptions {
  method?: WebMethod;
  /** ADF's `turnOffAsync`: a 202 is the final answer, its Location is not polled. */
  turnOffAsync?: boolean;
  /** The wait between polls, and the least: a 202's Retry-After may lengthen it, never shorten it. Default 1 s. */
  pollIntervalMs?: number;
  /** The most polls before the activity fails with TooManyPolls. Default 10,000. */
  maxPolls?: number;
  /** The largest response accepted, in bytes. Default 4 MB, as ADF. */
  maxResponseBytes?: number;
}

/** How long to wait before the next poll: Retry-After if longer than the interval, never more than a timer holds. */
export function pollWait(retryAfterMs: number | undefined, pollIntervalMs = DEFAULT_POLL_INTERVAL_MS): number {
  return Math.min(Math.max(retryAfterMs ?? 0, pollIntervalMs), MAX_TIMER_MS);
}

/**
 * The answer's headers as ADF puts them in the output's `ADFWebActivityResponseHeaders`: every header,
 * its name as the endpoint wrote it, repeated headers joined with ", ". Gathered in a Map, so that a
 * header named `constructor` or `__proto__` is a header like any other, not a property of Object.
 */
export function responseHeaders(rawHeaders: string[]): Record<string, string> {
  const headers = new Map<string, string>();
  const names = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = names.get(rawHeaders[i].toLowerCase()) ?? rawHeaders[i];
    names.set(name.toLowerCase(), name);
    const before = headers.get(name);
    headers.set(name, before === undefined ? rawHeaders[i + 1] : `${before}, ${rawHeaders[i + 1]}`);
  }
  return Object.fromEntries(headers);
}

export async function runWebActivity(options: WebOptions): Promise<ActivityResult> {
  const start = performance.now();
  let url = validateUrl(options.url);
  const method = options.method ?? "POST";
  const timeoutMs = options.timeoutMs ?? DEFAULT_POLICY_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const maxBytes = options.maxResponseBytes ?? MAX_RESPONSE_BYTES;
  const pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const maxPolls = options.maxPolls ?? DEFAULT_MAX_POLLS;
  // Credentials go to the activity's origin only: once a Location leads elsewhere (another host or
  // port, or https to http), the polls carry none, as fetch and curl drop them on such a redirect.
  const origin = url.origin;
  let credentialed = true;
  const deadline = start + timeoutMs;
  const progress = options.onProgress ?? (() => undefined);
  const controller = linkedController(options.signal);
  const result: ActivityResult = { activity: "Web", status: "Failed", polls: 0, totalMs: 0 };
  const end = (fields: Partial<ActivityResult>): ActivityResult =>
    Object.assign(result, fields, { totalMs: performance.now() - start });
  try {
    // A body is required for POST, PUT and PATCH, optional for DELETE and not sent with GET.
    const body = method === "GET" || (method === "DELETE" && options.body === undefined) ? undefined : JSON.stringify(options.body ?? {});
    let request: { method: string; headers: Record<string, string>; body?: string } = {
      method,
      headers: requestHeaders({ Accept: "application/json", ...(body !== undefined ? { "Content-Type": "application/json" } : {}) }, options.auth, options.headers),
      body,
    };
    progress(`${method} ${url.href} (the endpoint has ${formatMs(Math.min(requestTimeoutMs, timeoutMs))} to answer)`);
    for (;;) {
      const call = httpRequest(url, { ...request, timeoutMs: requestTimeoutMs, maxBytes, signal: controller.signal });
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
      if (answer.status === 202 && location && !options.turnOffAsync) {
        let next: URL;
        try {
          next = new URL(location, url);
        } catch {
          return end({ status: "Failed", error: { errorCode: "InvalidResponse", message: `The Location header "${location}" is not a URL.` } });
        }
        if (next.protocol !== "http:" && next.protocol !== "https:") {
          return end({ status: "Failed", error: { errorCode: "InvalidResponse", message: `The Location header "${location}" is not an http or https URL.` } });
        }
        if ((result.polls ?? 0) >= maxPolls) {
          return end({
            status: "Failed",
            error: { errorCode: "TooManyPolls", message: `The endpoint still answered 202 after ${maxPolls} polls (the emulator's bound on polls).` },
          });
        }
        if (credentialed && next.origin !== origin) {
          credentialed = false;
          progress(`The Location ${next.href} is on another origin than ${origin}: the polls go without the activity's authentication and headers.`);
        }
        const wait = pollWait(parseRetryAfter(headerValue(answer.headers["retry-after"])), pollIntervalMs);
        progress(`202 Accepted after ${formatMs(seen.ms)}; polling ${next.href} in ${formatMs(wait)}…`);
        const slept = await race(sleep(wait, controller.signal), deadline, controller.signal);
        if (slept.kind === "timeout") return end({ status: "TimedOut", error: timedOut(timeoutMs, "an answer other than 202") });
        if (slept.kind === "cancelled") return end({ status: "Cancelled", error: cancelled() });
        url = next;
        // The polls are GETs without a body, with the activity's headers and authentication while
        // they stay on its origin, and only headers that carry no credential once they leave it.
        request = {
          method: "GET",
          headers: credentialed
            ? requestHeaders({ Accept: "application/json" }, options.auth, withoutContentType(options.headers))
            : requestHeaders({ Accept: "application/json" }, undefined, credentialFreeHeaders(options.headers)),
        };
        result.polls = (result.polls ?? 0) + 1;
        continue;
      }

      const failure = endpointError(answer);
      if (failure) return end({ status: "Failed", error: failure });
      if (answer.tooLarge) {
        return end({
          status: "Failed",
          error: { errorCode: "ResponseTooLarge", message: `The response is larger than ${maxBytes} bytes (ADF's limit is 4 MB).` },
        });
      }
      const text = answer.body.toString("utf8");
      let parsed: unknown;
      if (text.trim() === "") {
        // An empty answer (a 202 without Location, a 204) succeeds with an empty Response.
        parsed = { Response: "" };
      } else {
        try {
          parsed = JSON.parse(text);
        } catch {
          return end({
            status: "Failed",
            error: { errorCode: "InvalidResponse", message: `The response is not JSON: ${bodyExcerpt(answer.body)}` },
          });
        }
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
      return end({ status: "Succeeded", output: { ...parsed, ADFWebActivityResponseHeaders: responseHeaders(answer.rawHeaders) } });
    }
  } finally {
    controller.abort();
  }
}

function withoutContentType(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!headers) return undefined;
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== "content-type"));
}
