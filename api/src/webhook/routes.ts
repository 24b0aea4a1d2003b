import type { Router } from "@koa/router";
import { z } from "zod";

import { authentication } from "../auth/index.js";
import type { Config } from "../config.js";
import { jsonBody } from "../framework/body.js";
import { HttpError } from "../framework/errors.js";
import type { Logger } from "../framework/logging.js";
import type { Job } from "../jobs/job.js";

export interface JobRouteDependencies {
  config: Config;
}

/** `POST /<job>` for every job, and `GET /<job>` for those that answer it. */
export function jobRoutes(router: Router, jobs: readonly Job[], { config }: JobRouteDependencies): void {
  const auth = authentication(config);
  const names = new Set<string>();
  for (const job of jobs) {
    if (names.has(job.name)) throw new Error(`two jobs are named "${job.name}"`);
    names.add(job.name);

    if (job.get) {
      router.get(`/${job.name}`, auth, async (ctx) => {
        ctx.body = await job.run(job.input.parse({}), { signal: AbortSignal.timeout(config.DRAIN_TIMEOUT_MS), log: ctx.state.log as Logger });
      });
    }
    router.post(`/${job.name}`, auth, jsonBody(config.BODY_LIMIT), async (ctx) => {
      const parsed = job.input.safeParse(ctx.request.body);
      if (!parsed.success) throw new HttpError(400, "invalid_input", z.prettifyError(parsed.error));
      ctx.body = await job.run(parsed.data, { signal: AbortSignal.timeout(config.DRAIN_TIMEOUT_MS), log: ctx.state.log as Logger });
    });
  }
}
