import type { Context } from "koa";

import { JSON_TYPE, sendError } from "../framework/errors.js";
import type { Job } from "../jobs/job.js";
import type { LogSource } from "./adf-outcome.js";
import type { ActivityService } from "./activity-service.js";

/** Web activity (no callBackUri): runs the job while the caller waits; 200 with its output, or its error status as a JSON error. */
export async function runWebActivity(ctx: Context, activities: ActivityService, job: Job, input: unknown): Promise<void> {
  const outcome = await activities.run(job, input, ctx.state as LogSource, ctx.res);
  if (outcome.ok) {
    // The header itself: `ctx.type =` would look the MIME type up on every answer.
    ctx.set("Content-Type", JSON_TYPE);
    ctx.body = outcome.output;
  } else sendError(ctx, outcome.statusCode, outcome.errorCode, outcome.message);
}
