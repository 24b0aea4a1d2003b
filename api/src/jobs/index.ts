import { helloworld } from "./helloworld.js";
import type { Job } from "./job.js";
import { simulate } from "./simulate.js";
import { test } from "./test-job.js";

/** Every job the API serves, each at `POST /<name>`. A new job is a new file plus one entry here. */
export const jobs: readonly Job[] = [helloworld, test, simulate];
