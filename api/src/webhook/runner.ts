import type { Config } from "../config.js";
import type { Logger } from "../framework/logging.js";
import { JobFailure, type Job, type JobContext } from "../jobs/job.js";
import { busy } from "./backlog.js";
import type { JobMetrics } from "./metrics.js";

/** How a job ended, in the terms ADF's callback uses. `output` is the output object as JSON text. */
export type JobOutcome =
  | { ok: true; output: string }
  | { ok: false; statusCode: number; errorCode: string; message: string; output: string };

type StopCode = "JobTimedOut" | "InstanceShuttingDown" | "JobCancelled";

/** Why a job was stopped before it finished (or before it started). */
class JobStopped extends Error {
  constructor(
    readonly statusCode: number,
    readonly errorCode: StopCode,
    message: string,
  ) {
    super(message);
    this.name = "JobStopped";
  }
}

/** What `start` needs besides the job and its input. */
export interface StartOptions {
  /** The job's logger, asked for only when something is logged (most jobs never log). */
  log: () => Logger;
  /**
   * Webhook calls wait for a slot when none is free. While waiting, the input is held as the JSON text it
   * came as (the bytes the backlog counts), not as objects of unknown size; `revive` makes the checked
   * input from that text again when the job starts.
   */
  queue?: { json: string; revive: (json: string) => unknown };
  /**
   * Web activity calls: registers what to call when the caller has gone (which cancels the job) and
   * returns how to unregister it. A hook, not an AbortSignal: it costs nothing on the hot path of
   * synchronous calls, where an AbortController per request was measurable.
   */
  onCallerGone?: (cancel: () => void) => () => void;
}

/** The input of a job: taken when it starts, dropped when the job is over (started or not). */
interface HeldInput {
  take(): unknown;
  drop(): void;
}

/**
 * Runs jobs within the limits: at most MAX_CONCURRENT_JOBS at once; webhook jobs beyond that wait in a
 * queue of at most MAX_QUEUED_JOBS (then 503 with Retry-After, not unbounded memory), oldest first; each
 * ends within JOB_TIMEOUT_MS of its acceptance (then a timeout failure, not a hang); none outlives the
 * drain's wrap-up at shutdown (an InstanceShuttingDown failure, running or still queued); and a Web
 * activity's job is cancelled when its caller disconnects.
 */
export class JobRunner {
  #running = 0;
  /** Jobs waiting for a slot, oldest first: each entry is called when a slot passes to it. */
  readonly #queue = new Set<() => void>();
  /** How to stop each job accepted and not yet over, running or queued, for the wrap-up. */
  readonly #stoppers = new Set<(reason: JobStopped) => void>();

  constructor(
    private readonly config: Pick<Config, "MAX_CONCURRENT_JOBS" | "MAX_QUEUED_JOBS" | "JOB_TIMEOUT_MS" | "MAX_OUTPUT_BYTES">,
    private readonly metrics: JobMetrics,
    private readonly wrapUp: AbortSignal,
  ) {
    wrapUp.addEventListener("abort", () => this.#stoppers.forEach((stop) => stop(shuttingDown())), { once: true });
  }

  /**
   * Takes a job: it starts now when a slot is free; a webhook call (`queue` given) otherwise waits for one.
   * Throws a 503 busy, before anything runs, when a Web activity call finds no slot or the queue is full.
   * Resolves with the outcome; never rejects. Successes are the caller's to log; failures are logged here.
   */
  start(job: Job, input: unknown, { log, queue, onCallerGone }: StartOptions): Promise<JobOutcome> {
    const slotFree = this.#running < this.config.MAX_CONCURRENT_JOBS;
    if (!slotFree && (!queue || this.#queue.size >= this.config.MAX_QUEUED_JOBS)) {
      this.metrics.jobs.inc({ job: job.name, outcome: "rejected" });
      throw busy(
        queue
          ? `${this.#running} jobs are running and ${this.#queue.size} are queued, the most this instance takes (MAX_QUEUED_JOBS); retry later.`
          : `${this.#running} jobs are running, the most this instance takes; retry later.`,
      );
    }
    if (slotFree) {
      this.#running++;
      this.metrics.running.set(this.#running);
      return this.#run(job, inputAsIs(input), false, log, onCallerGone);
    }
    return this.#run(job, inputAsJson(queue!.json, queue!.revive), true, log, onCallerGone);
  }

  async #run(job: Job, input: HeldInput, queued: boolean, log: () => Logger, onCallerGone: StartOptions["onCallerGone"]): Promise<JobOutcome> {
    const context = new RunContext(log);
    // The timeout counts from acceptance, time in the queue included: ADF's activity timeout started
    // when it called, so a callback due within JOB_TIMEOUT_MS of the 202 keeps "activity timeout above
    // JOB_TIMEOUT_MS" enough for the failure to reach ADF as JobTimedOut instead of its own TimedOut.
    // One timer per job, cleared when it ends (AbortSignal.timeout's would outlive it by JOB_TIMEOUT_MS).
    let started = false;
    const timer = setTimeout(() => context.stop(timedOut(this.config.JOB_TIMEOUT_MS, started)), this.config.JOB_TIMEOUT_MS);
    const stop = (reason: JobStopped) => context.stop(reason);
    this.#stoppers.add(stop);
    if (this.wrapUp.aborted) stop(shuttingDown());
    const forgetCaller = onCallerGone?.(() => stop(callerGone()));

    const acceptedAt = performance.now();
    let outcome: JobOutcome;
    try {
      if (queued && !(await this.#slot(context))) {
        outcome = this.#failure(context.stopped, log);
      } else {
        started = true;
        outcome = await this.#execute(job, input, context, log);
      }
    } finally {
      input.drop();
      clearTimeout(timer);
      this.#stoppers.delete(stop);
      forgetCaller?.();
    }
    const result = outcomeLabel(outcome);
    this.metrics.jobs.inc({ job: job.name, outcome: result });
    if (!outcome.ok) {
      const durationMs = Math.round(performance.now() - acceptedAt);
      log().warn({ job: job.name, durationMs, started, statusCode: outcome.statusCode, errorCode: outcome.errorCode }, `job ${result.replace("_", " ")}`);
    }
    return outcome;
  }

  /** Waits in the queue: true when a slot passed to this job, false when it was stopped first. */
  #slot(context: RunContext): Promise<boolean> {
    return new Promise((resolve) => {
      const granted = () => {
        context.onStop = undefined;
        resolve(true);
      };
      this.#queue.add(granted);
      this.metrics.queued.set(this.#queue.size);
      context.onStop = () => {
        this.#queue.delete(granted);
        this.metrics.queued.set(this.#queue.size);
        resolve(false);
      };
    });
  }

  /**
   * Runs a job that holds a slot. The slot is released when the job's own promise settles, even after a
   * timeout: a job that ignores its signal keeps counting against the limit while it runs.
   */
  async #execute(job: Job, input: HeldInput, context: RunContext, log: () => Logger): Promise<JobOutcome> {
    try {
      // One promise per job: settled by the job's own result, or rejected as soon as the job is stopped
      // (timeout, shutdown, caller gone), whichever comes first, so a job that ignores its signal still ends on time.
      const output = await new Promise<unknown>((resolve, reject) => {
        context.onStop = reject;
        let work: Promise<unknown>;
        try {
          if (context.stopped) throw context.stopped; // stopped as its slot came: it never runs
          work = job.run(input.take(), context);
        } catch (error) {
          work = Promise.reject(error);
        }
        work.then(
          (value) => {
            this.#release();
            resolve(value);
          },
          (error: unknown) => {
            this.#release();
            reject(error);
          },
        );
      });
      return this.#success(output, log);
    } catch (error) {
      return this.#failure(context.stopped ?? error, log);
    }
  }

  /** A slot is free: it passes to the oldest queued job, if any. */
  #release(): void {
    const next = this.#queue.values().next();
    if (!next.done) {
      this.#queue.delete(next.value);
      this.metrics.queued.set(this.#queue.size);
      next.value();
      return;
    }
    this.#running--;
    this.metrics.running.set(this.#running);
  }

  /** A job's output, as the JSON text ADF will get, or the failure it amounts to. */
  #success(output: unknown, log: () => Logger): JobOutcome {
    if (!isJsonObject(output)) return failed(500, "JobOutputInvalid", "The job returned no JSON object.");
    const json = this.#json(output, log);
    return typeof json === "string" ? { ok: true, output: json } : json;
  }

  #failure(error: unknown, log: () => Logger): JobOutcome {
    if (error instanceof JobStopped) return failed(error.statusCode, error.errorCode, error.message);
    if (error instanceof JobFailure) {
      // A failure keeps its own code; an output that cannot go with it is dropped (and logged).
      const json = this.#json(error.output, log);
      return { ...failed(error.statusCode, error.errorCode, error.message), output: typeof json === "string" ? json : "{}" };
    }
    log().error({ err: error }, "job threw");
    return failed(500, "JobFailed", "The job failed unexpectedly; its log has the details.");
  }

  /** JSON text of an output within MAX_OUTPUT_BYTES, or the failure it is. */
  #json(output: object, log: () => Logger): string | JobOutcome {
    let json: string;
    try {
      json = JSON.stringify(output);
    } catch (error) {
      log().error({ err: error }, "job output is not serialisable as JSON");
      return failed(500, "JobOutputInvalid", "The job's output could not be serialised as JSON.");
    }
    const max = this.config.MAX_OUTPUT_BYTES;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most outputs are measured without a scan.
    const bytes = json.length * 3 <= max ? json.length : Buffer.byteLength(json);
    if (bytes > max) {
      log().warn({ bytes }, "job output too large");
      return failed(500, "JobOutputTooLarge", `The job's output is ${bytes} bytes of JSON, more than MAX_OUTPUT_BYTES (${max}); ADF takes about 4 MB at most.`);
    }
    return json;
  }
}

/** A checked input, kept as it is (a job that starts at once). */
function inputAsIs(input: unknown): HeldInput {
  return { take: () => input, drop: () => {} };
}

/**
 * A queued job's input as the UTF-8 bytes of its JSON (the size the backlog counts). A function of its
 * own, so that no closure here keeps the parsed input alive as well.
 */
function inputAsJson(json: string, revive: (json: string) => unknown): HeldInput {
  let bytes: Buffer | undefined = Buffer.from(json, "utf8");
  return {
    take() {
      const text = bytes!.toString("utf8");
      bytes = undefined;
      return revive(text);
    },
    drop() {
      bytes = undefined;
    },
  };
}

/**
 * What a running job sees (`signal`, `log`) and how it is stopped. A class, not an object literal with
 * getters: it is made for every job, and prototype getters keep that cheap. The signal and the logger
 * are made only if the job asks for them; most short jobs never do.
 */
class RunContext implements JobContext {
  #controller: AbortController | undefined;
  stopped: JobStopped | undefined;
  /** Told once when the job is stopped: whatever it waits on now, its slot or its own run. */
  onStop: ((reason: JobStopped) => void) | undefined;

  constructor(private readonly getLog: () => Logger) {}

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.stopped) this.#controller.abort(this.stopped);
    return this.#controller.signal;
  }

  get log(): Logger {
    return this.getLog();
  }

  stop(reason: JobStopped): void {
    if (this.stopped) return;
    this.stopped = reason;
    // The wait ends with the reason first, so the job's own reaction to the abort (a rejection) comes second.
    this.onStop?.(reason);
    this.#controller?.abort(reason);
  }
}

const timedOut = (timeoutMs: number, started: boolean) =>
  new JobStopped(
    504,
    "JobTimedOut",
    started
      ? `The job ran longer than JOB_TIMEOUT_MS (${timeoutMs} ms, counted from its acceptance).`
      : `The job waited JOB_TIMEOUT_MS (${timeoutMs} ms) for a free slot and never started.`,
  );
const shuttingDown = () =>
  new JobStopped(503, "InstanceShuttingDown", "The instance shut down before the job finished (or started); run the activity again.");
// 499: the status nginx logs for a client that closed the request; nobody receives this answer.
const callerGone = () => new JobStopped(499, "JobCancelled", "The caller disconnected before the job finished.");

function failed(statusCode: number, errorCode: string, message: string): JobOutcome {
  return { ok: false, statusCode, errorCode, message, output: "{}" };
}

function outcomeLabel(outcome: JobOutcome): string {
  if (outcome.ok) return "succeeded";
  switch (outcome.errorCode) {
    case "JobTimedOut":
      return "timed_out";
    case "InstanceShuttingDown":
      return "interrupted";
    case "JobCancelled":
      return "cancelled";
    default:
      return "failed";
  }
}

function isJsonObject(value: unknown): value is object {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
