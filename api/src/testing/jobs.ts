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

/**
 * A job that runs until the test opens its gate (or its signal aborts): "still running" for exactly as
 * long as a test needs, decided by the test rather than by a duration that a busy machine can outrun.
 */
export function gatedJob(name = "gated") {
  let open!: () => void;
  let gate = new Promise<void>((resolve) => (open = resolve));
  let started = 0;
  let ended = 0;
  const job = defineJob({
    name,
    description: "Runs until the test opens its gate.",
    input: z.object({ ignoreSignal: z.boolean().default(false) }),
    run: async (input, { signal }) => {
      started++;
      try {
        await new Promise<void>((resolve, reject) => {
          void gate.then(resolve);
          if (!input.ignoreSignal) signal.addEventListener("abort", () => reject(signal.reason as Error), { once: true });
        });
        return { gated: true };
      } finally {
        ended++;
      }
    },
  });
  return {
    job,
    /** Lets every job waiting now, and every one started until `close`, finish. */
    open: () => open(),
    /** A fresh closed gate for the jobs started from now on. */
    close: () => {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
    get started() {
      return started;
    },
    get ended() {
      return ended;
    },
  };
}

/** A job whose output nests deeper than JSON.stringify can recurse (it overflows the stack). */
export const deepJob = defineJob({
  name: "deep",
  description: "Returns an output nested 100,000 levels deep.",
  input: z.object({}),
  run: async () => {
    let nested: unknown[] = [];
    for (let depth = 0; depth < 100_000; depth++) nested = [nested];
    return { nested };
  },
});
