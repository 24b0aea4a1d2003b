import { createHash, timingSafeEqual } from "node:crypto";

import type { Middleware } from "koa";

import { HttpError } from "../framework/errors.js";
import type { Logger } from "../framework/logging.js";

export interface BasicCredentials {
  username: string;
  password: string;
}

const CHALLENGE = { "WWW-Authenticate": 'Basic realm="adf-webhook-api", charset="UTF-8"' };

// `Basic <token68>`: the scheme is case-insensitive; the credentials are base64 (padding optional).
const BASIC_HEADER = /^Basic +([A-Za-z0-9+/]+={0,2}) *$/i;

const utf8 = new TextDecoder("utf-8", { fatal: true });

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

function refuse(message: string): HttpError {
  return new HttpError(401, "unauthorized", message, CHALLENGE);
}

/** The user-id and password of a `Basic` Authorization header (RFC 7617, UTF-8), or why there are none. */
export function parseBasic(header: string | undefined): BasicCredentials | { problem: string } {
  if (!header) return { problem: "Credentials are required (Authorization: Basic ...)." };
  const match = BASIC_HEADER.exec(header);
  if (!match) return { problem: "The Authorization header is not valid Basic credentials." };
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(match[1]!, "base64"));
  } catch {
    return { problem: "The Basic credentials are not valid UTF-8." };
  }
  const colon = decoded.indexOf(":");
  if (colon < 0) return { problem: "The Basic credentials have no user:password separator." };
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * `AUTH_MODE=basic`: one username and password. Both are always compared, in constant time (over SHA-256
 * digests, so lengths leak nothing either). The caller's username goes to `ctx.state.caller`.
 */
export function basicAuthentication(expected: BasicCredentials): Middleware {
  const expectedUser = digest(expected.username);
  const expectedPassword = digest(expected.password);
  return async (ctx, next) => {
    const log = ctx.state.log as Logger | undefined;
    const presented = parseBasic(ctx.get("authorization") || undefined);
    if ("problem" in presented) {
      log?.info({ authMode: "basic", reason: presented.problem }, "authentication refused");
      throw refuse(presented.problem);
    }
    const userOk = timingSafeEqual(digest(presented.username), expectedUser);
    const passwordOk = timingSafeEqual(digest(presented.password), expectedPassword);
    if (!(userOk && passwordOk)) {
      log?.info({ authMode: "basic", reason: "wrong username or password" }, "authentication refused");
      throw refuse("Invalid username or password.");
    }
    ctx.state.caller = presented.username;
    log?.debug({ authMode: "basic", caller: presented.username }, "caller authenticated");
    await next();
  };
}
