import type { Context } from "koa";

import type { Job } from "../jobs/job.js";
import type { LogSource } from "./adf-outcome.js";
import type { ActivityService } from "./activity-service.js";

/**
 * Webhook activity (the body carries callBackUri): input and URI checked first (400 on a bad one, so the
 * activity fails at once), then 202 with a receipt; the outcome is POSTed to callBackUri later.
 */
export async function acceptWebhook(ctx: Context, activities: ActivityService, job: Job, input: unknown, callBackUri: unknown): Promise<void> {
  const jobId = await activities.accept(job, input, ctx.request.rawBody ?? "", callBackUri, ctx.state as LogSource);
  ctx.status = 202;
  ctx.body = { jobId, job: job.name, status: "accepted" };
}
