import { EventEmitter, once } from "node:events";

import { z } from "zod";

import { defineJob, type JobContext } from "../jobs/job.js";

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
 * A job that runs until the test opens its gate (or its signal aborts, unless the call says
 * `ignoreSignal`): "still running" for exactly as long as a test needs, decided by the test rather than
 * by a duration that a busy machine can outrun. Each start and each abort is an event the test can
 * wait for (`until`), and `tags` lists the calls' `tag`s in the order they started.
 */
export function gatedJob(name = "gated") {
  const events = new EventEmitter();
  let open!: () => void;
  let gate = new Promise<void>((resolve) => (open = resolve));
  let started = 0;
  let ended = 0;
  let aborted = 0;
  const tags: string[] = [];
  const job = defineJob({
    name,
    description: "Runs until the test opens its gate.",
    input: z.object({ tag: z.string().default(""), ignoreSignal: z.boolean().default(false) }),
    run: async (input, { signal }) => {
      started++;
      tags.push(input.tag);
      events.emit("start");
      try {
        await new Promise<void>((resolve, reject) => {
          void gate.then(resolve);
          signal.addEventListener(
            "abort",
            () => {
              aborted++;
              events.emit("abort");
              if (!input.ignoreSignal) reject(signal.reason as Error);
            },
            { once: true },
          );
        });
        return { gated: true, tag: input.tag };
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
    get aborted() {
      return aborted;
    },
    tags,
    /** Resolves once `count` jobs have started (or have seen their signal abort). */
    async until(event: "start" | "abort", count: number): Promise<void> {
      while ((event === "start" ? started : aborted) < count) await once(events, event);
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

/**
 * For unit tests of the runner: a job that runs until the test ends it (`runs[i].finish()`), or its signal
 * aborts (unless it ignores it); `runs` lists each run's input and context, in the order they started.
 */
export function heldJob({ ignoreSignal = false } = {}) {
  const runs: Array<{ input: unknown; context: JobContext; finish: () => void }> = [];
  const job = defineJob({
    name: "held",
    description: "Runs until the test finishes it.",
    input: z.unknown(),
    run: (input, context) =>
      new Promise((resolve, reject) => {
        runs.push({ input, context, finish: () => resolve({ input }) });
        if (!ignoreSignal) context.signal.addEventListener("abort", () => reject(context.signal.reason as Error));
      }),
  });
  return { job, runs };
}
