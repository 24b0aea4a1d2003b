import { bodyParser } from "@koa/bodyparser";
import type { Middleware } from "koa";

import { HttpError } from "./errors.js";

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);

/**
 * JSON bodies only, up to `limitBytes`: a body of another type is 415, malformed JSON 400 and an
 * oversized body 413 (co-body's errors, mapped by the error handler). A request without a body gets `{}`.
 */
export function jsonBody(limitBytes: number): Middleware {
  const parse = bodyParser({
    enableTypes: ["json"],
    jsonLimit: limitBytes,
    jsonStrict: true,
    encoding: "utf-8",
    onError: (error) => {
      // co-body marks its JSON syntax errors with status 400 and nothing else; the rest carry a type.
      const { status, type } = error as { status?: number; type?: string };
      if (status === 400 && type === undefined) {
        throw new HttpError(400, "malformed_json", "The request body is not valid JSON (a JSON object is expected).");
      }
      throw error;
    },
  });
  return async (ctx, next) => {
    if (METHODS_WITH_BODY.has(ctx.method) && ctx.is("application/json", "application/*+json") === false) {
      throw new HttpError(415, "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json.");
    }
    await parse(ctx, next);
  };
}
