import type { Logger } from "pino";
import { z } from "zod";

/**
 * The fields ADF adds to the body it sends: `callBackUri` (Webhook activity) and the `datasets` and
 * `linkedServices` a Web activity references (which can carry connection strings). No job sees them: they
 * are taken off the body before `input` checks it, so a strict schema does not refuse them.
 */
export const ADF_FIELDS: ReadonlySet<string> = new Set(["callBackUri", "datasets", "linkedServices"]);

/** What a job returns: ADF shows it as the activity's output, so it is always a JSON object. */
export type JsonObject = { [key: string]: unknown };

export interface JobContext {
  /**
   * Aborted when the job is to stop: JOB_TIMEOUT_MS after it was accepted, at shutdown, or when a Web
   * activity's caller has disconnected. Stop work and return (or throw) promptly: the job keeps its slot
   * until it does.
   */
  signal: AbortSignal;
  /** Carries the job id and the request id on every line. */
  log: Logger;
}

/**
 * One unit of work ADF can start. `POST /<name>` runs it: as a Webhook activity when the body carries
 * ADF's `callBackUri`, else synchronously as a Web activity. Add a job by adding a file that exports
 * `defineJob({...})` and listing it in `jobs/index.ts`.
 */
export interface Job<Input extends z.ZodType = z.ZodType> {
  /** The URL segment: lower-case letters, digits and dashes. */
  readonly name: string;
  /** One line for people: shown in the README and in logs. */
  readonly description: string;
  /** Validates the request body (without ADF's own fields, see ADF_FIELDS); a failure is a 400 before anything runs. */
  readonly input: Input;
  /** Also answer `GET /<name>` by running the job on `{}`, as the original endpoints did. */
  readonly get?: boolean;
  /** Does the work. Throw a JobFailure to fail with a chosen status and error code. */
  run(input: z.output<Input>, context: JobContext): Promise<JsonObject>;
}

const JOB_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function defineJob<Input extends z.ZodType>(job: Job<Input>): Job<Input> {
  if (!JOB_NAME.test(job.name)) throw new Error(`job name "${job.name}" must match ${JOB_NAME}`);
  if (job.input instanceof z.ZodObject) {
    const taken = Object.keys(job.input.shape).filter((key) => ADF_FIELDS.has(key));
    if (taken.length > 0) {
      throw new Error(`job "${job.name}": its input declares ${taken.join(", ")}, which ADF adds and no job receives`);
    }
  }
  return job;
}

/** A failure a job reports on purpose: it reaches ADF as the callback's `Error` and `StatusCode`. */
export class JobFailure extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: string,
    message: string,
    readonly output: JsonObject = {},
  ) {
    super(message);
    this.name = "JobFailure";
    if (!Number.isInteger(statusCode) || statusCode < 400 || statusCode > 599) {
      throw new RangeError(`a JobFailure's statusCode must be 400-599, got ${statusCode}`);
    }
  }
}
