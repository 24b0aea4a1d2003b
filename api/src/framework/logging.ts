import { pino, type Logger, type LoggerOptions } from "pino";

import { BatchedDestination, isoTimeCachedPerSecond } from "./log-destination.js";

export type { Logger };

/**
 * Structured JSON logs on stdout, as the cluster's log collector expects. The lines of one event-loop
 * turn are written together at its end (see BatchedDestination), and whatever is pending is written when
 * the process exits, however it exits.
 */
export function createLogger(level: string, destination: pino.DestinationStream = new BatchedDestination(1)): Logger {
  const options: LoggerOptions = {
    level,
    // pino's isoTime, formatted once a second.
    timestamp: isoTimeCachedPerSecond(),
    // Belt and braces: nothing should log these, and if something does they are masked. (Exact paths:
    // wildcard paths would cost every log call.)
    // Every Error in a log line goes through serializeError, whatever its key (see below).
    serializers: { err: serializeError, error: serializeError },
    formatters: { level: (label) => ({ level: label }), log: serializeErrorsIn },
    redact: {
      paths: ["authorization", "headers.authorization", "req.headers.authorization", "callBackUri", "body.callBackUri", "password"],
      censor: "[redacted]",
    },
  };
  return pino(options, destination);
}

/** What a log line says about an error: never its raw data (see `serializeError`). */
export interface SerializedError {
  type: string;
  code?: string;
  status?: number;
  message?: string;
  stack?: string;
  cause?: SerializedError;
  errors?: SerializedError[];
}

const SANE_CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_CAUSE_DEPTH = 3;
const MAX_TEXT = 2_000;

/**
 * The one way an error reaches the log. An error with a `code` (Node's HTTP parser errors, socket and
 * DNS errors, raw-body's) is logged by its type and code only: Node's parser errors carry `rawPacket`,
 * the raw request bytes with the Authorization header and the callBackUri, and other properties of such
 * errors are no safer. Other errors (ours, a job's) keep their message and stack, which help debugging;
 * no other property of any error is copied. Used by pino for `err`/`error` and for any Error value in a
 * line's fields.
 */
export function serializeError(value: unknown, depth = 0): SerializedError {
  if (!(value instanceof Error)) {
    // A thrown non-Error (a string, an object): its type, and a string's text, shortened.
    return typeof value === "string" ? { type: "string", message: value.slice(0, MAX_TEXT) } : { type: value === null ? "null" : typeof value };
  }
  const { code, status } = value as { code?: unknown; status?: unknown };
  const type = SANE_CODE.test(value.name) ? value.name : "Error";
  const out: SerializedError = { type };
  if (typeof status === "number") out.status = status;
  if (typeof code === "string" || typeof code === "number") {
    out.code = SANE_CODE.test(String(code)) ? String(code) : "unknown";
    return out;
  }
  out.message = value.message.slice(0, MAX_TEXT);
  if (value.stack) out.stack = value.stack.slice(0, MAX_TEXT * 2);
  if (depth < MAX_CAUSE_DEPTH) {
    if (value.cause !== undefined) out.cause = serializeError(value.cause, depth + 1);
    if (value instanceof AggregateError) out.errors = value.errors.slice(0, 5).map((inner) => serializeError(inner, depth + 1));
  }
  return out;
}

/** pino's `formatters.log`: an Error under any other key of a line is serialised the same way. */
function serializeErrorsIn(fields: Record<string, unknown>): Record<string, unknown> {
  for (const key in fields) {
    const value = fields[key];
    if (value instanceof Error && key !== "err" && key !== "error") return mapErrors(fields);
  }
  return fields;
}

function mapErrors(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in fields) {
    const value = fields[key];
    out[key] = value instanceof Error ? serializeError(value) : value;
  }
  return out;
}
