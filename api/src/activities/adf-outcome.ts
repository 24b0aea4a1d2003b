import type { Logger } from "../framework/logging.js";
import { JobFailure } from "../jobs/job.js";

/**
 * ADF's side of a job, in one place: how a job's end reads to ADF (the Web activity's answer, the
 * Webhook activity's callback), the error codes and status codes this API gives it, the output's
 * serialisation and size limit, and the callback's payload.
 */

/** How a job ended, in the terms ADF's callback uses. `output` is the output object as JSON text. */
export type JobOutcome =
  | { ok: true; output: string }
  | { ok: false; statusCode: number; errorCode: string; message: string; output: string };

/** Where a job's logger comes from: read only when something is logged (most jobs never log). */
export interface LogSource {
  readonly log: Logger;
}

type StopCode = "JobTimedOut" | "InstanceShuttingDown" | "JobCancelled";

/** Why a job was stopped before it finished (or before it started). */
export class JobStopped extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: StopCode,
    message: string,
  ) {
    super(message);
    this.name = "JobStopped";
  }
}

export const timedOut = (timeoutMs: number, started: boolean) =>
  new JobStopped(
    504,
    "JobTimedOut",
    started
      ? `The job ran longer than JOB_TIMEOUT_MS (${timeoutMs} ms, counted from its acceptance).`
      : `The job waited JOB_TIMEOUT_MS (${timeoutMs} ms) for a free slot and never started.`,
  );
export const shuttingDown = () =>
  new JobStopped(503, "InstanceShuttingDown", "The instance shut down before the job finished (or started); run the activity again.");
// 499: the status nginx logs for a client that closed the request; nobody receives this answer.
export const callerGone = () => new JobStopped(499, "JobCancelled", "The caller disconnected before the job finished.");

/** A job's output, as the JSON text ADF will get, or the failure it amounts to (not an object; not JSON; too large). */
export function succeeded(output: unknown, maxOutputBytes: number, logs: LogSource): JobOutcome {
  if (!isJsonObject(output)) return failed(500, "JobOutputInvalid", "The job returned no JSON object.");
  const json = outputJson(output, maxOutputBytes, logs);
  return typeof json === "string" ? { ok: true, output: json } : json;
}

/** What a job's failure (a rejection, a throw, a stop) reads as to ADF. */
export function failedWith(error: unknown, maxOutputBytes: number, logs: LogSource): JobOutcome {
  if (error instanceof JobStopped) return failed(error.statusCode, error.errorCode, error.message);
  if (error instanceof JobFailure) {
    // A failure keeps its own code; an output that cannot go with it is dropped (and logged).
    const json = outputJson(error.output, maxOutputBytes, logs);
    return { ...failed(error.statusCode, error.errorCode, error.message), output: typeof json === "string" ? json : "{}" };
  }
  logs.log.error({ err: error }, "job threw");
  return failed(500, "JobFailed", "The job failed unexpectedly; its log has the details.");
}

/** JSON text of an output within `maxBytes` (MAX_OUTPUT_BYTES), or the failure it is. */
function outputJson(output: object, maxBytes: number, logs: LogSource): string | JobOutcome {
  let json: string;
  try {
    json = JSON.stringify(output);
  } catch (error) {
    logs.log.error({ err: error }, "job output is not serialisable as JSON");
    return failed(500, "JobOutputInvalid", "The job's output could not be serialised as JSON.");
  }
  // JSON.stringify writes Infinity and NaN as null: ADF would get other data than the job gave. Only an
  // output whose text has a null can hold one, so most are never walked again.
  const nonFinite = json.includes("null") ? nonFiniteKey(output) : undefined;
  if (nonFinite !== undefined) {
    logs.log.error({ key: nonFinite }, "job output has a number JSON cannot carry");
    return failed(500, "JobOutputInvalid", `The job's output has a number JSON cannot carry (Infinity or NaN) at key ${JSON.stringify(nonFinite)}; it would reach ADF as null.`);
  }
  // UTF-8 takes at most 3 bytes per UTF-16 unit: most outputs are measured without a scan.
  const bytes = json.length * 3 <= maxBytes ? json.length : Buffer.byteLength(json);
  if (bytes > maxBytes) {
    logs.log.warn({ bytes }, "job output too large");
    return failed(500, "JobOutputTooLarge", `The job's output is ${bytes} bytes of JSON, more than MAX_OUTPUT_BYTES (${maxBytes}); ADF takes about 4 MB at most.`);
  }
  return json;
}

/** The key of the first number in `output` that JSON cannot carry (as JSON.stringify walks it), if any. */
function nonFiniteKey(output: object): string | undefined {
  let found: string | undefined;
  JSON.stringify(output, (key, value: unknown) => {
    if (found === undefined && typeof value === "number" && !Number.isFinite(value)) found = key;
    return value;
  });
  return found;
}

function failed(statusCode: number, errorCode: string, message: string): JobOutcome {
  return { ok: false, statusCode, errorCode, message, output: "{}" };
}

/** The outcome as the `jobs_total` metric's label (and the log's word for it). */
export function outcomeLabel(outcome: JobOutcome): string {
  if (outcome.ok) return "succeeded";
  switch (outcome.errorCode) {
    case "JobTimedOut":
      return "timed_out";
    case "InstanceShuttingDown":
      return "interrupted";
    case "JobCancelled":
      return "cancelled";
    default:
      return "failed";
  }
}

/**
 * The body ADF expects on callBackUri, as UTF-8 bytes: `{"Output":…,"StatusCode":"200"}`, or with
 * `"Error":{"ErrorCode","Message"}` and the failure's status (with `reportStatusOnCallBack`, a StatusCode of
 * 400 or more fails the activity). Built from the output's JSON text, so the output is never serialised
 * twice, and held as bytes while the callback waits to be delivered.
 */
export function callbackPayload(outcome: JobOutcome): Buffer {
  const error = outcome.ok ? "" : `,"Error":${JSON.stringify({ ErrorCode: outcome.errorCode, Message: outcome.message })}`;
  const head = '{"Output":';
  const tail = `${error},"StatusCode":"${outcome.ok ? "200" : String(outcome.statusCode)}"}`;
  // Written into one buffer of its own: no joined copy of a large output, and no shared pool slab that
  // a small callback would keep alive while it waits.
  const payload = Buffer.allocUnsafeSlow(head.length + Buffer.byteLength(outcome.output) + Buffer.byteLength(tail));
  let at = payload.write(head);
  at += payload.write(outcome.output, at);
  payload.write(tail, at);
  return payload;
}

function isJsonObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
