import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";

import { defineJob, JobFailure } from "./job.js";

/** For pipeline authors: rehearse an activity's timing and failure handling without real work. */
export const simulate = defineJob({
  name: "simulate",
  description: "Waits durationMs, then succeeds with output or, with fail: true, fails with statusCode, errorCode and message.",
  input: z.strictObject({
    durationMs: z.number().int().min(0).max(86_400_000).default(0),
    fail: z.boolean().default(false),
    statusCode: z.number().int().min(400).max(599).default(500),
    errorCode: z.string().min(1).max(200).default("SimulatedFailure"),
    message: z.string().max(2000).default("The simulate job failed as requested."),
    output: z.record(z.string(), z.unknown()).default({ simulated: true }),
  }),
  async run(input, { signal }) {
    // The job runner aborts `signal` at JOB_TIMEOUT_MS, which bounds durationMs.
    await sleep(input.durationMs, undefined, { signal });
    if (input.fail) throw new JobFailure(input.statusCode, input.errorCode, input.message, input.output);
    return input.output;
  },
});
