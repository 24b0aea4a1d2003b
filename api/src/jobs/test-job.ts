import { z } from "zod";

import { defineJob } from "./job.js";

export const test = defineJob({
  name: "test",
  description: 'Answers {"test":"test"}: the original second endpoint.',
  input: z.object({}),
  get: true,
  run: async () => ({ test: "test" }),
});
