import type { Logger } from "pino";
import type { z } from "zod";

/** What a job returns: ADF shows it as the activity's output, so it is always a JSON object. */
export type JsonObject = { [key: string]: unknown };

export interface JobContext {
  /** Aborted when the job runs past JOB_TIMEOUT_MS: stop work and return (or throw) promptly. */
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
  /** Validates the request body (without `callBackUri`); a failure is a 400 before anything runs. */
  readonly input: Input;
  /** Also answer `GET /<name>` by running the job on `{}`, as the original endpoints did. */
  readonly get?: boolean;
  /** Does the work. Throw a JobFailure to fail with a chosen status and error code. */
  run(input: z.output<Input>, context: JobContext): Promise<JsonObject>;
}

const JOB_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function defineJob<Input extends z.ZodType>(job: Job<Input>): Job<Input> {
  if (!JOB_NAME.test(job.name)) throw new Error(`job name "${job.name}" must match ${JOB_NAME}`);
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
