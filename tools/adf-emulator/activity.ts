/**
 * What both activities share: their settings and result, ADF's limits, and how a run is bounded by
 * the activity's deadline and the caller's signal.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as delay } from "node:timers/promises";

import { formatTimespan } from "./timespan.js";

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

export interface CommonOptions {
  url: string;
  /** The configured JSON body (an object). Default `{}`. */
  body?: Record<string, unknown>;
  /** The activity timeout in ms: the Webhook activity's `timeout` (default 10 minutes), the Web activity's `policy.timeout` (default 7 days). */
  timeoutMs?: number;
  auth?: Auth;
  /** The activity's `headers`: they replace the emulator's defaults of the same name; an empty value removes one. */
  headers?: Record<string, string>;
  /** How long the endpoint has to answer each request, in ms. Default 1 minute, as ADF. */
  requestTimeoutMs?: number;
  /** Cancels the activity (status Cancelled). */
  signal?: AbortSignal;
  /** Progress lines for people (the CLI prints them on stderr). */
  onProgress?: (line: string) => void;
}

/** The Webhook activity's `timeout` default (Microsoft Learn, Webhook activity: "The default value is 10 minutes"). */
export const DEFAULT_TIMEOUT_MS = 10 * 60_000;
/** An activity `policy.timeout` default, which bounds a Web activity's 202 polling (ADF REST reference, ActivityPolicy: 7 days). */
export const DEFAULT_POLICY_TIMEOUT_MS = 7 * 24 * 3_600_000;
/** How long an endpoint has to answer one request: the Webhook activity's fixed minute, the Web activity's `httpRequestTimeout` default. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
/** The Web activity's `httpRequestTimeout` range, 1 to 10 minutes. */
export const MIN_HTTP_REQUEST_TIMEOUT_MS = 60_000;
export const MAX_HTTP_REQUEST_TIMEOUT_MS = 10 * 60_000;
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** A setting that cannot work (a bad URL, a bad flag): the command line shows it as a usage error. */
export class UsageError extends Error {}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

type Raced<T> = { kind: "value"; value: T } | { kind: "error"; error: unknown } | { kind: "timeout" } | { kind: "cancelled" };

/** The longest delay a Node timer holds (2^31 - 1 ms, about 24.8 days): given a longer one, it fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Waits for `work`, bounded by the activity's deadline (a `performance.now()` time) and the caller's signal. */
export function race<T>(work: Promise<T>, deadline: number, signal: AbortSignal): Promise<Raced<T>> {
  return new Promise<Raced<T>>((resolve) => {
    if (signal.aborted) return resolve({ kind: "cancelled" });
    const onAbort = () => done({ kind: "cancelled" });
    // A deadline further than a timer holds is reached in several timers.
    const untilDeadline = () => Math.min(Math.max(0, deadline - performance.now()), MAX_TIMER_MS);
    const onTimer = () => {
      if (performance.now() >= deadline) done({ kind: "timeout" });
      else timer = setTimeout(onTimer, untilDeadline());
    };
    let timer = setTimeout(onTimer, untilDeadline());
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

/** Resolves after `ms` (at most MAX_TIMER_MS); rejects when `signal` aborts, so no timer outlives the activity. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return delay(Math.min(ms, MAX_TIMER_MS), undefined, { signal });
}

/** An AbortController that follows the caller's signal, aborted in `finally` to end anything in flight. */
export function linkedController(signal: AbortSignal | undefined): AbortController {
  const controller = new AbortController();
  if (signal) {
    if (signal.aborted) controller.abort();
    else signal.addEventListener("abort", () => controller.abort(), { once: true });
  }
  return controller;
}

export function timedOut(timeoutMs: number, what: string): ActivityError {
  return {
    errorCode: "ActivityTimedOut",
    message: `The activity timed out after ${formatTimespan(timeoutMs)} waiting for ${what}.`,
  };
}

export function cancelled(): ActivityError {
  return { errorCode: "ActivityCancelled", message: "The activity was cancelled." };
}
