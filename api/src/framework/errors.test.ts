import assert from "node:assert/strict";

import { z } from "zod";

import { defineJob } from "../jobs/job.js";
import { jobs } from "../jobs/index.js";
import { startApi, type RunningApi } from "../testing/api.js";
import { circularJob, deepJob } from "../testing/jobs.js";

const exploding = defineJob({
  name: "explode",
  description: "Throws an error carrying internals.",
  input: z.object({}),
  run: async () => {
    throw new Error("db password=hunter2 at /srv/secret.ts:42");
  },
});

function assertErrorShape(body: unknown, code: string) {
  assert.deepEqual(Object.keys(body as object), ["error"]);
  const { error } = body as { error: { code: unknown; message: unknown } };
  assert.equal(error.code, code);
  assert.equal(typeof error.message, "string");
}

describe("errors: every failure is a JSON error with a stable shape", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ BODY_LIMIT: "1kb" }, { jobs: [...jobs, exploding, circularJob, deepJob] });
  });
  after(() => api.close());

  const post = (path: string, body: string, type = "application/json") =>
    fetch(`${api.url}${path}`, { method: "POST", headers: { "content-type": type }, body });

  it("unknown route: 404 not_found", async () => {
    const res = await fetch(`${api.url}/nope`);
    assert.equal(res.status, 404);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assertErrorShape(await res.json(), "not_found");
  });

  it("wrong method: 405 with an Allow header", async () => {
    const res = await fetch(`${api.url}/helloworld`, { method: "DELETE" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "HEAD, GET, POST");
    assertErrorShape(await res.json(), "method_not_allowed");
    const probe = await fetch(`${api.url}/healthz`, { method: "POST" });
    assert.equal(probe.status, 405);
    assertErrorShape(await probe.json(), "method_not_allowed");
  });

  it("malformed JSON: 400 malformed_json", async () => {
    const res = await post("/helloworld", '{"a":');
    assert.equal(res.status, 400);
    assertErrorShape(await res.json(), "malformed_json");
  });

  it("JSON that is not an object: 400", async () => {
    for (const body of ["42", '"text"', "[1,2]"]) {
      const res = await post("/helloworld", body);
      assert.equal(res.status, 400, body);
      assertErrorShape(await res.json(), body === "[1,2]" ? "invalid_input" : "malformed_json");
    }
  });

  it("body over BODY_LIMIT: 413 payload_too_large", async () => {
    const res = await post("/helloworld", JSON.stringify({ pad: "x".repeat(2048) }));
    assert.equal(res.status, 413);
    assertErrorShape(await res.json(), "payload_too_large");
  });

  it("a POST whose body is not JSON: 415 unsupported_media_type", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "application/xml"]) {
      const res = await post("/helloworld", "a=1", type);
      assert.equal(res.status, 415, type);
      assertErrorShape(await res.json(), "unsupported_media_type");
    }
  });

  it("any application/*+json type is parsed and limited like application/json", async () => {
    const small = await post("/simulate", JSON.stringify({ output: { via: "+json" } }), "application/vnd.adf+json");
    assert.equal(small.status, 200);
    assert.deepEqual(await small.json(), { via: "+json" });
    const large = await post("/helloworld", JSON.stringify({ pad: "x".repeat(2048) }), "application/vnd.adf+json");
    assert.equal(large.status, 413);
  });

  it("input the job does not accept: 400 invalid_input naming the field", async () => {
    const res = await post("/simulate", JSON.stringify({ durationMs: -5 }));
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string } };
    assertErrorShape(body, "invalid_input");
    assert.match(body.error.message, /durationMs/);
  });

  it("an unexpected failure: 500 without internals, details in the log only", async () => {
    const res = await post("/explode", "{}");
    assert.equal(res.status, 500);
    const text = await res.text();
    assert.doesNotMatch(text, /hunter2|secret\.ts|stack/);
    assertErrorShape(JSON.parse(text), "JobFailed");
    assert.ok(api.logs.some((line) => JSON.stringify(line).includes("hunter2")), "the log keeps the cause");
  });

  it("a body that does not decode as its Content-Encoding says: 400 unreadable_body", async () => {
    const res = await fetch(`${api.url}/helloworld`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      body: "{}",
    });
    assert.equal(res.status, 400);
    assertErrorShape(await res.json(), "unreadable_body");
  });

  it("a body nested deeper than 64 levels: 400 invalid_input", async () => {
    const res = await post("/simulate", `{"output":{"a":${"[".repeat(100)}${"]".repeat(100)}}}`);
    assert.equal(res.status, 400);
    assertErrorShape(await res.json(), "invalid_input");
  });

  it("an answer that cannot be serialised: a JSON 500 (JobOutputInvalid, as its callback says), not Koa's plain text", async () => {
    const res = await fetch(`${api.url}/circular`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(res.status, 500);
    assertErrorShape(await res.json(), "JobOutputInvalid");
  });

  it("a __proto__ key, at any depth: 400 forbidden_key, not 'not valid JSON' (it is valid JSON)", async () => {
    for (const body of ['{"__proto__":{"x":1}}', '{"output":{"__proto__":{"x":1}}}', '{"output":{"\\u005f_proto__":1}}']) {
      const res = await post("/simulate", body);
      assert.equal(res.status, 400, body);
      const answer = (await res.json()) as { error: { message: string } };
      assertErrorShape(answer, "forbidden_key");
      assert.match(answer.error.message, /__proto__/);
      assert.doesNotMatch(answer.error.message, /not valid JSON/);
    }
  });

  it("a POST with Content-Length: 0 is an empty body, with or without a Content-Type", async () => {
    for (const headers of [{}, { "content-type": "text/plain" }, { "content-type": "application/json" }] as Array<Record<string, string>>) {
      // fetch sends Content-Length: 0 for an empty string body and adds no Content-Type of its own.
      const res = await fetch(`${api.url}/helloworld`, { method: "POST", headers, body: "" });
      assert.equal(res.status, 200, JSON.stringify(headers));
      assert.deepEqual(await res.json(), { message: "Hello World" });
    }
    const simulate = await fetch(`${api.url}/simulate`, { method: "POST", body: "" });
    assert.equal(simulate.status, 200);
    assert.deepEqual(await simulate.json(), { simulated: true });
  });

  // A regression the fuzzer found: an output nested ~5,000 deep overflowed the stack when Koa serialised
  // the answer, outside the error middleware (a text/plain 500). Request bodies that deep are refused
  // before any job runs (the depth limit), so a job that builds such an output is what can still reach it.
  it("an answer nested too deep to serialise: a JSON 500 (JobOutputInvalid), not Koa's plain text", async () => {
    const res = await post("/deep", "{}");
    assert.equal(res.status, 500);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    assertErrorShape(await res.json(), "JobOutputInvalid");
  });

  it("keeps serving after all of that", async () => {
    const res = await fetch(`${api.url}/helloworld`);
    assert.equal(res.status, 200);
  });
});

/**
 * Issue 25: a body with 60,000 unknown keys got a 709 KB error listing every one, and a number JSON
 * cannot carry (1e400, a 500,000-digit number) reached the job as Infinity and ADF as null. An error
 * echoes a bounded part of the input, and such a number is refused with the place it was found.
 */
describe("errors echo a bounded part of the input; numbers JSON cannot carry are refused", () => {
  const strings = defineJob({
    name: "strings",
    description: "Takes a list of strings.",
    input: z.object({ values: z.array(z.string()) }),
    run: async () => ({}),
  });
  let api: RunningApi;
  before(async () => {
    api = await startApi({ CALLBACK_ALLOW_INSECURE: "true" }, { jobs: [...jobs, strings] });
  });
  after(() => api.close());

  const post = async (path: string, body: string) => {
    const res = await fetch(`${api.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    const text = await res.text();
    return { status: res.status, text, body: JSON.parse(text) as { error: { code: string; message: string } } };
  };

  it("60,000 unknown keys: the first 10 are listed, the rest counted, in an answer of under 2 KB", async () => {
    const body = `{${Array.from({ length: 60_000 }, (_, i) => `"k${i}":0`).join(",")}}`;
    const answer = await post("/simulate", body);
    assert.equal(answer.status, 400);
    assertErrorShape(answer.body, "invalid_input");
    assert.match(answer.body.error.message, /Unrecognized keys: "k0", "k1", .*"k9" and 59990 more/);
    assert.ok(answer.text.length < 2_048, `${answer.text.length} characters of answer`);
  });

  it("one key of 500,000 characters is cut short", async () => {
    const answer = await post("/simulate", JSON.stringify({ ["k".repeat(500_000)]: 1 }));
    assert.equal(answer.status, 400);
    assert.match(answer.body.error.message, /"k{64}\.\.\."/);
    assert.ok(answer.text.length < 2_048, `${answer.text.length} characters of answer`);
  });

  it("5,000 problems: the first 10 are listed, the rest counted", async () => {
    const answer = await post("/strings", JSON.stringify({ values: Array.from({ length: 5_000 }, (_, i) => i) }));
    assert.equal(answer.status, 400);
    assert.equal(answer.body.error.message.match(/✖/g)?.length, 10);
    assert.match(answer.body.error.message, /\.\.\. and 4990 more problems$/);
    assert.ok(answer.text.length < 4_096, `${answer.text.length} characters of answer`);
  });

  for (const [what, number, path] of [
    ["1e400", "1e400", "$.output.big"],
    ["-1e400", "-1e400", "$.output.big"],
    ["a number of 500,000 digits", "9".repeat(500_000), "$.output.big"],
  ] as const) {
    it(`${what} in a Web activity's body: 400 invalid_input naming ${path}, never null in the output`, async () => {
      const answer = await post("/simulate", `{"output":{"small":1,"big":${number}}}`);
      assert.equal(answer.status, 400, answer.text.slice(0, 200));
      assertErrorShape(answer.body, "invalid_input");
      assert.ok(answer.body.error.message.includes(`at ${path} `), answer.body.error.message);
    });
  }

  it("in a Webhook activity's body too, at any depth: refused before it is accepted", async () => {
    const answer = await post("/simulate", `{"callBackUri":"http://127.0.0.1:9/cb","output":{"rows":[1,{"a b":[2,1e999]}]}}`);
    assert.equal(answer.status, 400);
    assert.ok(answer.body.error.message.includes('at $.output.rows[1]["a b"][1] '), answer.body.error.message);
  });

  it("the largest and smallest numbers JSON carries pass as they are", async () => {
    const answer = await post("/simulate", '{"output":{"max":1.7976931348623157e308,"min":-1.7976931348623157e308,"tiny":5e-324}}');
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.text), { max: 1.7976931348623157e308, min: -1.7976931348623157e308, tiny: 5e-324 });
  });
});
