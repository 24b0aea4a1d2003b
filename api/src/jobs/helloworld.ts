import { z } from "zod";

import { defineJob } from "./job.js";

export const helloworld = defineJob({
  name: "helloworld",
  description: 'Answers {"message":"Hello World"}: the original endpoint, for checking the wiring.',
  input: z.object({}),
  get: true,
  run: async () => ({ message: "Hello World" }),
});
