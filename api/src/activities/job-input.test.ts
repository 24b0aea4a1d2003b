import assert from "node:assert/strict";

import { z } from "zod";

import { HttpError } from "../framework/errors.js";
import { defineJob } from "../jobs/job.js";
import { inputFromBody, parseInput, reviveInput } from "./job-input.js";

describe("a job's input from a request body", () => {
  const job = defineJob({ name: "strict", description: "Strict input.", input: z.strictObject({ n: z.number().default(1) }), run: async () => ({}) });
  const invalid = (error: unknown) => error instanceof HttpError && error.status === 400 && error.code === "invalid_input";

  it("checks the body against the job's schema, without the fields ADF adds", () => {
    assert.deepEqual(inputFromBody(job, { n: 2, callBackUri: "https://x/cb", datasets: [], linkedServices: [] }), { n: 2 });
    assert.deepEqual(parseInput(job, {}), { n: 1 });
  });

  it("is a 400 invalid_input for a body that is no JSON object, or that the schema refuses (saying why)", () => {
    for (const body of [null, [], "text", 3]) assert.throws(() => inputFromBody(job, body), invalid);
    assert.throws(() => inputFromBody(job, { n: "two" }), (error: HttpError) => invalid(error) && /Invalid input for strict/.test(error.message));
    assert.throws(() => inputFromBody(job, { extra: true }), invalid);
  });

  it("is made again from the body's JSON text for a queued job, with the same checks", () => {
    assert.deepEqual(reviveInput(job, '{"n":3,"callBackUri":"https://x/cb"}'), { n: 3 });
    assert.throws(() => reviveInput(job, '{"n":"three"}'), invalid);
  });
});
