import type { Router } from "@koa/router";
import type { Middleware } from "koa";

import { authentication } from "../auth/index.js";
import { expectedBodyBytes, jsonBody } from "../framework/body.js";
import type { Job } from "../jobs/job.js";
import type { ActivityService } from "./activity-service.js";
import { inputFromBody, parseInput } from "./job-input.js";
import { runWebActivity } from "./web-activity.js";
import { acceptWebhook } from "./webhook.js";

/**
 * ADF's two ways of calling a job, at `POST /<job>`: a Webhook activity when the body carries
 * `callBackUri` (webhook.ts), else a Web activity (web-activity.ts). Jobs marked `get` also answer
 * `GET /<job>` (the original endpoints) as a Web activity.
 */
export function jobRoutes(router: Router, jobs: readonly Job[], activities: ActivityService): void {
  const { config } = activities;
  const guards = authentication(config);
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`two jobs are named "${job.name}"`);
    names.add(job.name);

    if (job.get) router.get(`/${job.name}`, ...guards, (ctx) => runWebActivity(ctx, activities, job, parseInput(job, {})));
    router.post(`/${job.name}`, ...guards, roomForBody(activities, job), jsonBody(config.BODY_LIMIT, activities.bodies), (ctx) => {
      const body: unknown = ctx.request.body;
      const input = inputFromBody(job, body);
      const { callBackUri } = body as Record<string, unknown>;
      return callBackUri === undefined ? runWebActivity(ctx, activities, job, input) : acceptWebhook(ctx, activities, job, input, callBackUri);
    });
  }
}

/**
 * Refuses a body the webhook backlog has no room for before reading it: by its Content-Length, or as
 * large as BODY_LIMIT when chunked or compressed (read in full, it could be).
 */
function roomForBody(activities: ActivityService, job: Job): Middleware {
  return async (ctx, next) => {
    const bytes = expectedBodyBytes(ctx, activities.config.BODY_LIMIT);
    if (bytes > 0) activities.admitBody(job, bytes);
    await next();
  };
}
