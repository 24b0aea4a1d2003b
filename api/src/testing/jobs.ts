import { z } from "zod";

import { defineJob } from "../jobs/job.js";

/** A job whose output JSON cannot serialise (it contains itself). */
export const circularJob = defineJob({
  name: "circular",
  description: "Returns an output JSON cannot serialise.",
  input: z.object({}),
  run: async () => {
    const output: Record<string, unknown> = {};
    output.self = output;
    return output;
  },
});
