import { HttpError } from "../framework/errors.js";
import { invalidInput } from "../framework/validation.js";
import { ADF_FIELDS, type Job } from "../jobs/job.js";

/** A job's checked input from a request body: a JSON object, without the fields ADF adds; 400 otherwise. */
export function inputFromBody(job: Job, body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "invalid_input", "The body must be a JSON object.");
  }
  return parseInput(job, withoutAdfFields(body));
}

/** A queued job's input, made again from the body's JSON text when the job starts. */
export function reviveInput(job: Job, json: string): unknown {
  return parseInput(job, withoutAdfFields(JSON.parse(json) as object));
}

/** The job's input schema applied to `fields`: the checked input, or a 400 that says what is wrong. */
export function parseInput(job: Job, fields: unknown): unknown {
  const parsed = job.input.safeParse(fields);
  if (!parsed.success) throw invalidInput(job.name, parsed.error);
  return parsed.data;
}

/** The body without the fields ADF adds (a copy made of own data properties, never through setters). */
function withoutAdfFields(body: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([key]) => !ADF_FIELDS.has(key)));
}
