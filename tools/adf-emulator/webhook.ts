/**
 * The Webhook activity: starts a callback receiver on 127.0.0.1, POSTs the body plus `callBackUri`
 * to the URL, then waits (up to the timeout) for the callback.
 */
import { performance } from "node:perf_hooks";

import {
  cancelled,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  linkedController,
  MAX_RESPONSE_BYTES,
  race,
  timedOut,
  type ActivityResult,
  type CommonOptions,
} from "./activity.js";
import { interpretCallback } from "./callback.js";
import { describeBody, endpointError, httpRequest, networkError, requestHeaders, validateUrl } from "./http.js";
import { startReceiver, type ReceiverAddress } from "./receiver.js";
import { formatMs, formatTimespan } from "./timespan.js";

export interface WebhookOptions extends CommonOptions {
  /** ADF's `reportStatusOnCallBack`. */
  reportStatusOnCallback?: boolean;
  /** The largest callback body accepted, in bytes. Default 4 MB. */
  maxCallbackBytes?: number;
  /** Where the callback receiver listens and what callBackUri names; 127.0.0.1 and a random port by default. */
  receiver?: ReceiverAddress;
}

export async function runWebhookActivity(options: WebhookOptions): Promise<ActivityResult> {
  const start = performance.now();
  const url = validateUrl(options.url);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const deadline = start + timeoutMs;
  const progress = options.onProgress ?? (() => undefined);
  const controller = linkedController(options.signal);
  const receiver = await startReceiver(start, options.maxCallbackBytes ?? MAX_RESPONSE_BYTES, progress, options.receiver);
  const result: ActivityResult = { activity: "Webhook", status: "Failed", callBackUri: receiver.maskedUri, totalMs: 0 };
  const end = (fields: Partial<ActivityResult>): ActivityResult =>
    Object.assign(result, fields, { totalMs: performance.now() - start });
  try {
    progress(`Callback receiver listening on ${receiver.maskedUri}`);
    progress(`POST ${url.href} (the endpoint has ${formatMs(Math.min(requestTimeoutMs, timeoutMs))} to answer)`);
    const payload = JSON.stringify({ ...(options.body ?? {}), callBackUri: receiver.uri });
    const call = httpRequest(url, {
      method: "POST",
      headers: requestHeaders({ "Content-Type": "application/json", Accept: "application/json" }, options.auth, options.headers),
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
    const failure = endpointError(answer);
    if (failure) return end({ status: "Failed", error: failure });
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
