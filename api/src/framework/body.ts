import { bodyParser } from "@koa/bodyparser";
import type { Context, Middleware } from "koa";

import { cut, HttpError } from "./errors.js";

const METHODS_WITH_BODY = new Set(["POST", "PUT", "PATCH"]);
const JSON_TYPES = ["application/json", "application/*+json"] as const;

/**
 * JSON bodies only, up to `limitBytes`: a body of another type is 415, malformed JSON 400 and an
 * oversized body 413 (co-body's errors, mapped by the error handler). A request without a body gets `{}`.
 * A body without a Content-Type is read as JSON: ADF's docs require the header and users forget it, and
 * a body that is not JSON is still refused (400).
 */
export function jsonBody(limitBytes: number, budget?: BodyBudget): Middleware {
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
    // Held while the body is read and parsed (a slow upload holds it until it ends or its request times
    // out); the parsed body is the handler's from then on.
    const release = budget?.reserve(expectedBodyBytes(ctx, limitBytes));
    try {
      await parse(ctx, async () => {
        release?.();
        const problem = bodyProblem(ctx.request.body, MAX_DEPTH);
        if (problem) throw new HttpError(400, "invalid_input", problem);
        await next();
      });
    } finally {
      release?.();
    }
  };
}

/**
 * The most memory reading this request's body can take: its Content-Length when that is known and the
 * body is not encoded; the whole limit when the length is unknown (chunked) or the body is compressed
 * (a few bytes can inflate to the limit); nothing for a request without a body, or one whose declared
 * length is over the limit (refused, 413, before a byte is read).
 */
export function expectedBodyBytes(ctx: Context, limitBytes: number): number {
  const chunked = ctx.get("transfer-encoding") !== "";
  const length = ctx.request.length;
  if (!chunked && length === undefined) return 0;
  const encoding = ctx.get("content-encoding").trim().toLowerCase();
  if (chunked || length === undefined || (encoding !== "" && encoding !== "identity")) return limitBytes;
  return length > limitBytes ? 0 : length;
}

/**
 * The bytes of request bodies being read at once, across all connections (MAX_BODY_BYTES_IN_FLIGHT): each
 * request reserves what its body can take (expectedBodyBytes) before a byte is read, and is refused
 * (`refuse`: 503 busy with Retry-After) when that does not fit. Without it, slow uploads each held a body
 * of up to BODY_LIMIT, with nothing bounding how many.
 */
export class BodyBudget {
  #bytes = 0;

  constructor(
    readonly limitBytes: number,
    private readonly refuse: (message: string) => HttpError,
  ) {}

  /** Bytes reserved now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Reserves `bytes` until the returned release is called (idempotent), or throws `refuse`'s error. */
  reserve(bytes: number): () => void {
    if (bytes === 0) return () => {};
    // A body larger than the whole budget (BODY_LIMIT set above it) is still read, alone.
    if (this.#bytes > 0 && this.#bytes + bytes > this.limitBytes) {
      throw this.refuse(
        `Request bodies being received hold ${this.#bytes} bytes here; this one's ${bytes} more would pass MAX_BODY_BYTES_IN_FLIGHT (${this.limitBytes}); retry later.`,
      );
    }
    this.#bytes += bytes;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.#bytes -= bytes;
    };
  }
}

/** Deeper than any real ADF payload; deep enough input would overflow recursive code further on. */
const MAX_DEPTH = 64;

/** A value met while walking a parsed body: what it is, how deep, and where (its parent, and its key there). */
interface Place {
  value: unknown;
  depth: number;
  parent: Place | undefined;
  key: string | number | undefined;
}

/**
 * What a parsed body has that this API refuses, found without recursion: nesting deeper than `max`, or
 * a number JSON.parse could not carry (past about ±1.8e308, `1e400` or a number of 500,000 digits, it
 * becomes ±Infinity, which JSON has no text for: the job would get Infinity, and ADF null in its
 * Output). Undefined when there is none.
 */
function bodyProblem(value: unknown, max: number): string | undefined {
  const stack: Place[] = [{ value, depth: 0, parent: undefined, key: undefined }];
  while (stack.length > 0) {
    const place = stack.pop()!;
    const node = place.value;
    if (typeof node === "number") {
      if (!Number.isFinite(node)) return `The number at ${jsonPath(place)} is beyond what JSON numbers carry here (about ±1.8e308); send it as a string.`;
      continue;
    }
    if (typeof node !== "object" || node === null) continue;
    if (place.depth >= max) return `The body is nested more than ${max} levels deep.`;
    const depth = place.depth + 1;
    if (Array.isArray(node)) node.forEach((child: unknown, key) => stack.push({ value: child, depth, parent: place, key }));
    else for (const [key, child] of Object.entries(node)) stack.push({ value: child, depth, parent: place, key });
  }
  return undefined;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** Where a place is, as a JSON path (`$.output.rows[3]`), each key cut short. */
function jsonPath(place: Place): string {
  const segments: string[] = [];
  for (let at: Place | undefined = place; at?.parent; at = at.parent) {
    const { key } = at;
    segments.push(typeof key === "number" ? `[${key}]` : IDENTIFIER.test(key!) ? `.${cut(key!, 64)}` : `[${JSON.stringify(cut(key!, 64))}]`);
  }
  return `$${segments.reverse().join("")}`;
}
