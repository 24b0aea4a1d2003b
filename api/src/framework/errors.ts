import { Stream } from "node:stream";

import type { Context, Middleware } from "koa";
import type { Logger } from "pino";

/** The one shape of every error this API answers with. */
export interface ErrorBody {
  error: { code: string; message: string };
}

/** An error with a status and a stable machine-readable code, safe to show to the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

// Codes for the errors that Koa, co-body and raw-body raise with a status of their own.
const CODE_BY_STATUS: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  408: "request_timeout",
  413: "payload_too_large",
  415: "unsupported_media_type",
  503: "unavailable",
};

const CODE_BY_TYPE: Record<string, string> = {
  "entity.too.large": "payload_too_large",
  "encoding.unsupported": "unsupported_media_type",
  "charset.unsupported": "unsupported_media_type",
  "request.aborted": "request_aborted",
  "request.size.invalid": "bad_request",
};

/** The JSON text of an error, for answers written outside Koa (the HTTP layer's refusals). */
export function errorJson(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } } satisfies ErrorBody);
}

/**
 * The longest error message answered. Messages are short; one that is not (it echoes what a client sent,
 * or a job's own message runs long) is cut here, so no answer's error grows with its input.
 */
const MAX_ERROR_MESSAGE_CHARS = 2_000;

export function sendError(ctx: Context, status: number, code: string, message: string): void {
  ctx.status = status;
  ctx.body = { error: { code, message: cut(message, MAX_ERROR_MESSAGE_CHARS) } } satisfies ErrorBody;
}

/** `text` cut to `max` characters, marked as cut. */
export function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function toHttpError(error: unknown): HttpError | undefined {
  if (error instanceof HttpError) return error;
  const e = error as { status?: unknown; statusCode?: unknown; expose?: unknown; type?: unknown; message?: unknown };
  const status = typeof e?.status === "number" ? e.status : typeof e?.statusCode === "number" ? e.statusCode : 500;
  if (status < 400 || status >= 500 || e.expose === false) return undefined;
  const code = (typeof e.type === "string" && CODE_BY_TYPE[e.type]) || CODE_BY_STATUS[status] || "client_error";
  return new HttpError(status, code, String(e.message));
}

/**
 * Maps every failure below it to `{"error":{"code","message"}}`. Client errors keep their message;
 * anything else is a 500 whose details go to the log only. (The job port's requests get the same from
 * the request pipeline, see pipeline.ts.)
 */
export function errorHandler(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      serializeJsonBody(ctx);
    } catch (error) {
      answerError(ctx, error);
    }
  };
}

/**
 * Serialise here rather than in Koa's responder, so that a body that cannot be serialised (a circular or
 * BigInt job output) throws to the error handling, not to Koa's plain-text 500.
 */
export function serializeJsonBody(ctx: Context): void {
  if (!isJsonBody(ctx.body)) return;
  ctx.body = JSON.stringify(ctx.body);
  // Setting an object body already made it JSON; `ctx.type =` would look the MIME type up again.
  if (ctx.response.get("Content-Type") !== JSON_TYPE) ctx.type = "application/json";
}

/** What Koa's `ctx.type = "application/json"` sets. */
export const JSON_TYPE = "application/json; charset=utf-8";

/** The answer to a failure: its own status and code for a client error, else a 500 (details logged). */
export function answerError(ctx: Context, error: unknown): void {
  const known = toHttpError(error);
  if (known) {
    ctx.set(known.headers);
    sendError(ctx, known.status, known.code, known.message);
    return;
  }
  (ctx.state.log as Logger | undefined)?.error({ err: error }, "request failed");
  sendError(ctx, 500, "internal_error", "The server failed to handle the request.");
}

function isJsonBody(body: unknown): boolean {
  return typeof body === "object" && body !== null && !Buffer.isBuffer(body) && !(body instanceof Stream);
}

/**
 * Gives the answers the router leaves bodiless the same JSON shape: unknown route 404, wrong method 405
 * (the router has set `Allow`; a method it does not know at all, its 501, is a wrong method here too).
 */
export function notFoundHandler(): Middleware {
  return async (ctx, next) => {
    await next();
    answerUnrouted(ctx);
  };
}

/** After the router: a bodiless 404, 405 or 501 becomes the JSON error (see notFoundHandler). */
export function answerUnrouted(ctx: Context): void {
  if (ctx.body !== undefined && ctx.body !== null) return;
  if (ctx.status === 405 || ctx.status === 501) {
    sendError(ctx, 405, "method_not_allowed", `${ctx.method} is not allowed on ${cut(ctx.path, MAX_PATH_ECHO)}.`);
  } else if (ctx.status === 404) {
    sendError(ctx, 404, "not_found", `No route for ${ctx.method} ${cut(ctx.path, MAX_PATH_ECHO)}.`);
  }
}

/** Echo at most a short prefix of a client's path. */
const MAX_PATH_ECHO = 100;
