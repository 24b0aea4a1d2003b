import { bodyParser } from "@koa/bodyparser";
import type { Middleware } from "koa";

import { HttpError } from "./errors.js";

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);
const JSON_TYPES = ["application/json", "application/*+json"] as const;

/**
 * JSON bodies only, up to `limitBytes`: a body of another type is 415, malformed JSON 400 and an
 * oversized body 413 (co-body's errors, mapped by the error handler). A request without a body gets `{}`.
 * A body without a Content-Type is read as JSON: ADF's docs require the header and users forget it, and
 * a body that is not JSON is still refused (400).
 */
export function jsonBody(limitBytes: number): Middleware {
  const parse = bodyParser({
    enableTypes: ["json"],
    // Parse exactly what the 415 check below lets through, so no JSON type skips parsing (and the limit).
    extendTypes: { json: [...JSON_TYPES] },
    detectJSON: (ctx) => !ctx.get("content-type"),
    jsonLimit: limitBytes,
    jsonStrict: true,
    encoding: "utf-8",
    onError: (error) => {
      // co-body marks its JSON syntax errors with status 400 and nothing else; raw-body's carry a type
      // and a status (413, 415, ...); a body that does not inflate (bad gzip) has no status at all.
      const { status, type, message } = error as { status?: number; type?: string; message?: string };
      // Valid JSON that @hapi/bourne (co-body's parser) refuses: a `__proto__` key, at any depth, could
      // change the prototype of the objects built from it.
      if (status === 400 && type === undefined && message === "Object contains forbidden prototype property") {
        throw new HttpError(400, "forbidden_key", 'The body has a "__proto__" key, which this API refuses (it could change objects\' prototypes).');
      }
      if (status === 400 && type === undefined) {
        throw new HttpError(400, "malformed_json", "The request body is not valid JSON (a JSON object is expected).");
      }
      if (status === undefined) throw new HttpError(400, "unreadable_body", "The request body could not be decoded (check Content-Encoding).");
      throw error;
    },
  });
  return async (ctx, next) => {
    // `Content-Length: 0` is no body, whatever its type (ADF and curl send it without one): `{}`.
    if (ctx.request.length === 0 && !ctx.get("transfer-encoding")) {
      ctx.request.body = {};
    } else if (METHODS_WITH_BODY.has(ctx.method) && ctx.get("content-type") && ctx.is(...JSON_TYPES) === false) {
      throw new HttpError(415, "unsupported_media_type", "Send the body as JSON, with Content-Type: application/json.");
    }
    await parse(ctx, async () => {
      if (depthExceeds(ctx.request.body, MAX_DEPTH)) {
        throw new HttpError(400, "invalid_input", `The body is nested more than ${MAX_DEPTH} levels deep.`);
      }
      await next();
    });
  };
}

/** Deeper than any real ADF payload; deep enough input would overflow recursive code further on. */
const MAX_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `max`, found without recursion. */
function depthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (depth >= max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}
