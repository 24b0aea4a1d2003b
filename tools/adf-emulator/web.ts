/**
 * The Web activity: a synchronous request whose answer must be a 2xx JSON object of at most 4 MB;
 * a 202 with a Location header is polled (GET) until an answer other than 202.
 */
import { performance } from "node:perf_hooks";

import {
  cancelled,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  isObject,
  linkedController,
  MAX_RESPONSE_BYTES,
  race,
  sleep,
  timedOut,
  type ActivityResult,
  type CommonOptions,
  type EndpointAnswer,
} from "./activity";
import { authHeaders, bodyExcerpt, describeBody, headerValue, httpRequest, networkError, parseRetryAfter, validateUrl } from "./http";
import { formatMs } from "./timespan";

export const WEB_METHODS = ["GET", "POST", "PUT", "DELETE"] as const;
export type WebMethod = (typeof WEB_METHODS)[number];

export interface WebOptions extends CommonOptions {
  method?: WebMethod;
  /** The wait between polls when a 202 has no Retry-After, in ms. Default 1 s. */
  pollIntervalMs?: number;
  /** The largest response accepted, in bytes. Default 4 MB, as ADF. */
  maxResponseBytes?: number;
}

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
