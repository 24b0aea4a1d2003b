import assert from "node:assert/strict";

import fc from "fast-check";

import { startApi, type RunningApi } from "../testing/api.js";
import { sendRequest as send, type RawAnswer as Answer, type RawRequest as Sent } from "../testing/http.js";

/**
 * Property-based fuzzing of the whole HTTP surface over real HTTP: whatever a client sends, the API
 * answers (never a crash), never with a 5xx it did not mean, and every error has our JSON shape.
 */

const BODY_LIMIT_BYTES = 16 * 1024;
const KNOWN_PATHS = ["/helloworld", "/test", "/simulate", "/healthz", "/readyz", "/metrics", "/jobs/1", "/", ""];
// Keys the API gives meaning to, and keys that break naive object handling.
const KEYS = ["callBackUri", "durationMs", "fail", "statusCode", "errorCode", "message", "output", "__proto__", "constructor", "prototype", "toString", "hasOwnProperty"];

// --- paths: known routes, random and unicode segments (encoded as a client must), broken encodings
const rawSegment = fc.constantFrom("%", "%zz", "%ff", "%c0%af", "%00", "%2e%2e", "..", ".", "", "%2F", "%252F", ";a=b", "~", "helloworld", "HELLOWORLD", "simulate", "jobs", "%E2%80%AE");
const segment = fc.oneof(
  rawSegment,
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: "grapheme", maxLength: 10 }).map(encodeURIComponent),
);
const query = fc.oneof(
  fc.constant(""),
  fc.string({ maxLength: 30 }).map((q) => `?${encodeURIComponent(q)}`),
  fc.constantFrom("?a=1&a=2", "?__proto__[x]=1", "?callBackUri=http://127.0.0.1/", "?%ff", "?"),
);
const path = fc
  .tuple(
    fc.oneof(
      fc.constantFrom(...KNOWN_PATHS),
      fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join("/")}`),
      fc.constantFrom(...KNOWN_PATHS).map((known) => `${known}/`),
      fc.constantFrom("//helloworld", "/./helloworld", "/../helloworld", "/helloworld%20", "/hello%77orld"),
    ),
    query,
  )
  .map(([p, q]) => `${p.startsWith("/") ? p : `/${p}`}${q}`);

// --- headers: random extension headers plus the ones the API reads
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,60}$/).map((v) => v.trim());
const headers = fc.record(
  {
    contentType: fc.constantFrom(
      "application/json",
      "application/json; charset=utf-8",
      "application/json; charset=utf-16",
      "application/json; charset=latin1",
      "application/json; charset=bogus",
      "application/vnd.api+json",
      "application/merge-patch+json",
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/xml",
      "*/*",
      "application/json;;;",
      "garbage",
      "",
    ),
    contentEncoding: fc.constantFrom("gzip", "deflate", "br", "identity", "bogus", "gzip, gzip"),
    requestId: fc.oneof(headerValue, fc.constant("a".repeat(300))),
    accept: fc.constantFrom("application/json", "text/html", "*/*", "image/png", ""),
    prefer: fc.constantFrom("respond-async", "return=minimal", ""),
    authorization: fc.constantFrom("Bearer x.y.z", "Basic Og==", "Basic", ""),
    extra: fc.dictionary(fc.stringMatching(/^x-[a-z0-9-]{1,20}$/), headerValue, { maxKeys: 4 }),
  },
  { requiredKeys: [] },
);

// --- bodies
const deepArray = fc.integer({ min: 1, max: 7_000 }).map((d) => `{"a":${"[".repeat(d)}${"]".repeat(d)}}`);
const deepObject = fc.integer({ min: 1, max: 2_000 }).map((d) => `${'{"a":'.repeat(d)}1${"}".repeat(d)}`);
const deepNaked = fc.integer({ min: 1, max: 6_000 }).map((d) => `${"[".repeat(d)}${"]".repeat(d)}`);
const nearLimit = fc
  .tuple(fc.integer({ min: -64, max: 64 }), fc.constantFrom("x", "é", "😀", "\\u0000", "\\\""))
  .map(([delta, unit]) => {
    const unitBytes = Buffer.byteLength(JSON.parse(`"${unit}"`) as string);
    const count = Math.max(0, Math.floor((BODY_LIMIT_BYTES + delta - 10) / (unit.startsWith("\\") ? unit.length : unitBytes)));
    return `{"s":"${unit.repeat(count)}"}`;
  });
const specialKeys = fc
  .dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 10 })), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
  .map((entries) => `{${Object.entries(entries).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v) ?? "null"}`).join(",")}}`);
const body = fc.oneof(
  fc.constant(undefined),
  fc.constant(""),
  fc.json({ maxDepth: 4 }),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: "binary", maxLength: 200 }).map((s) => JSON.stringify({ s })),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.constantFrom(
    '{"a":',
    "{'a':1}",
    '{"a":1,}',
    "nul",
    "\uFEFF{}",
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    '{"callBackUri":"http://127.0.0.1:1/cb"}',
    '{"callBackUri":"https://169.254.169.254/latest"}',
    '{"callBackUri":"javascript:alert(1)"}',
    '{"callBackUri":null}',
    '{"callBackUri":{"__proto__":1}}',
    '{"durationMs":5}',
    '{"durationMs":1e309}',
    '{"durationMs":-0}',
    '{"statusCode":200,"fail":true}',
    '{"output":[]}',
  ),
  specialKeys,
  deepArray,
  deepObject,
  deepNaked,
  nearLimit,
);

const request$ = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
  path,
  headers,
  body,
});

type Generated = typeof request$ extends fc.Arbitrary<infer T> ? T : never;

function toSent({ method, path, headers: h, body: b }: Generated): Sent {
  const headers: Record<string, string> = { ...h.extra };
  if (h.contentType) headers["content-type"] = h.contentType;
  if (h.contentEncoding && h.contentEncoding !== "identity") headers["content-encoding"] = h.contentEncoding;
  if (h.requestId) headers["x-request-id"] = h.requestId;
  if (h.accept) headers.accept = h.accept;
  if (h.prefer) headers.prefer = h.prefer;
  if (h.authorization) headers.authorization = h.authorization;
  // Always well-framed HTTP (Node's client sends a GET body unframed); broken framing is tested with raw sockets.
  if (b !== undefined) headers["content-length"] = String(Buffer.byteLength(b));
  return { method, path, headers, body: b };
}

/** A 5xx the API means: a simulate job asked to fail (or time out), or a busy/draining refusal. */
function meant5xx(sent: Sent, answer: Answer, code: string | undefined): boolean {
  if (code === "busy" || code === "draining") return true;
  const pathname = sent.path.split("?")[0];
  return pathname === "/simulate" && code !== undefined && code !== "internal_error" && code !== "JobFailed";
}

function check(sent: Sent, answer: Answer): void {
  const where = `${sent.method} ${sent.path} -> ${answer.status} ${answer.text.slice(0, 200)}`;
  assert.ok(answer.status >= 100 && answer.status < 600, where);
  let code: string | undefined;
  if (answer.status >= 400 && sent.method !== "HEAD") {
    assert.match(String(answer.headers["content-type"]), /^application\/json/, where);
    const parsed = JSON.parse(answer.text) as { error?: { code?: unknown; message?: unknown } };
    assert.deepEqual(Object.keys(parsed), ["error"], where);
    assert.deepEqual(Object.keys(parsed.error ?? {}).sort(), ["code", "message"], where);
    assert.equal(typeof parsed.error?.code, "string", where);
    assert.equal(typeof parsed.error?.message, "string", where);
    code = parsed.error?.code as string;
  }
  if (sent.method === "HEAD") assert.equal(answer.text, "", where);
  if (answer.status >= 500) assert.ok(meant5xx(sent, answer, code), `an unmeant 5xx: ${where}`);
  if (answer.status === 405) assert.ok(answer.headers.allow, `405 without Allow: ${where}`);
}

describe("reliability: fuzzing the HTTP surface", function () {
  this.timeout(60_000);
  let api: RunningApi;
  let base: URL;
  before(async () => {
    // A small body limit keeps "near the limit" bodies cheap; a short job timeout bounds simulate.
    api = await startApi({ BODY_LIMIT: "16kb", JOB_TIMEOUT_MS: "200", LOG_LEVEL: "warn" });
    base = new URL(api.url);
  });
  after(() => api.close());

  it("answers any request without an unmeant 5xx, always with the JSON error shape", async () => {
    await fc.assert(
      fc.asyncProperty(request$, async (generated) => {
        const sent = toSent(generated);
        check(sent, await send(base, sent));
      }),
      { numRuns: 300 },
    );
    const health = await send(base, { method: "GET", path: "/healthz", headers: {} });
    assert.equal(health.status, 200);
  });

  it("POST bodies to the job routes, any JSON at all: 2xx or a 4xx in our shape", async () => {
    const jobBody = fc.oneof(specialKeys, fc.json({ maxDepth: 5 }), nearLimit, deepArray, deepObject);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom("/helloworld", "/test", "/simulate"), jobBody, async (route, text) => {
        const sent: Sent = { method: "POST", path: route, headers: { "content-type": "application/json" }, body: text };
        const answer = await send(base, sent);
        check(sent, answer);
        if (answer.status < 300) assert.equal(typeof JSON.parse(answer.text), "object");
      }),
      { numRuns: 200 },
    );
  });

  it("prototype keys never pollute Object.prototype", async () => {
    for (const route of ["/helloworld", "/test", "/simulate"]) {
      for (const text of ['{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '{"output":{"__proto__":{"polluted":true}}}']) {
        const sent: Sent = { method: "POST", path: route, headers: { "content-type": "application/json" }, body: text };
        check(sent, await send(base, sent));
      }
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it("bodies just under and just over BODY_LIMIT: 2xx/4xx and 413 exactly beyond it", async () => {
    for (const size of [BODY_LIMIT_BYTES - 1, BODY_LIMIT_BYTES, BODY_LIMIT_BYTES + 1, BODY_LIMIT_BYTES * 4]) {
      const text = `{"s":"${"x".repeat(size - 8)}"}`;
      assert.equal(Buffer.byteLength(text), size);
      const sent: Sent = { method: "POST", path: "/helloworld", headers: { "content-type": "application/json" }, body: text };
      const answer = await send(base, sent);
      check(sent, answer);
      assert.equal(answer.status, size > BODY_LIMIT_BYTES ? 413 : 200, `${size} bytes`);
    }
  });

  it("still serves after all of that", async () => {
    const health = await send(base, { method: "GET", path: "/healthz", headers: {} });
    assert.equal(health.status, 200);
    const hello = await send(base, { method: "GET", path: "/helloworld", headers: {} });
    assert.deepEqual(JSON.parse(hello.text), { message: "Hello World" });
  });

  // Regressions for the bugs this fuzzer found (fixed in 11e64b2); the other, an answer nested too deep
  // to serialise, is tested in framework/errors.test.ts with a job that builds one.
  it("a body declared gzip, deflate or br that does not decompress answers 400, not 500", async () => {
    for (const encoding of ["gzip", "deflate", "br"]) {
      const sent: Sent = {
        method: "POST",
        path: "/helloworld",
        headers: { "content-type": "application/json", "content-encoding": encoding, "content-length": "2" },
        body: "{}",
      };
      const answer = await send(base, sent);
      check(sent, answer);
      assert.equal(answer.status, 400, encoding);
    }
  });
});
