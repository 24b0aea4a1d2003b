import type { ServerResponse } from "node:http";

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

/** Where a job's logger comes from: read only when something is logged (most jobs never log). */
export interface LogSource {
  readonly log: Logger;
}

/** What `start` needs besides the job and its input. */
export interface StartOptions {
  /** The job's logger (the request's `ctx.state`, say, whose logger is made on first use). */
  logs: LogSource;
  /**
   * Webhook calls wait for a slot when none is free. While waiting, the input is held as the JSON text it
   * came as (the bytes the backlog counts), not as objects of unknown size; `revive` makes the checked
   * input from that text again when the job starts.
   */
  queue?: { json: string; revive: (json: string) => unknown };
  /**
   * Web activity calls: the response the caller waits for. The job is cancelled if it closes before the
   * answer is written (the caller disconnected). A listener, not an AbortSignal: an AbortController per
   * request was measurable on the hot path of synchronous calls.
   */
  caller?: ServerResponse;
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
  /**
   * Each job accepted and not yet over, running or queued, oldest first: to stop them at their deadline
   * and at the wrap-up. Every job has the same timeout, so acceptance order is deadline order, and one
   * timer, set for the oldest deadline, does for all (a timer per job was measurable on the hot path).
   */
  readonly #active = new ActiveJobs();
  #deadlineArmed = false;

  constructor(
    private readonly config: Pick<Config, "MAX_CONCURRENT_JOBS" | "MAX_QUEUED_JOBS" | "JOB_TIMEOUT_MS" | "MAX_OUTPUT_BYTES">,
    private readonly metrics: JobMetrics,
    private readonly wrapUp: AbortSignal,
  ) {
    wrapUp.addEventListener(
      "abort",
      () => {
        for (const context of this.#active) context.stop(shuttingDown());
      },
      { once: true },
    );
  }

  /**
   * Takes a job: it starts now when a slot is free; a webhook call (`queue` given) otherwise waits for one.
   * Throws a 503 busy, before anything runs, when a Web activity call finds no slot or the queue is full.
   * Resolves with the outcome; never rejects. Successes are the caller's to log; failures are logged here.
   */
  start(job: Job, input: unknown, { logs, queue, caller }: StartOptions): Promise<JobOutcome> {
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
      this.metrics.load.running = ++this.#running;
      return this.#run(job, input, logs, caller);
    }
    return this.#run(job, new QueuedInput(queue!.json, queue!.revive), logs, caller);
  }

  /** Runs a job now (it holds a slot) or once a slot passes to it (a QueuedInput), within its deadline. */
  async #run(job: Job, input: unknown, logs: LogSource, caller: ServerResponse | undefined): Promise<JobOutcome> {
    // The timeout counts from acceptance, time in the queue included: ADF's activity timeout started
    // when it called, so a callback due within JOB_TIMEOUT_MS of the 202 keeps "activity timeout above
    // JOB_TIMEOUT_MS" enough for the failure to reach ADF as JobTimedOut instead of its own TimedOut.
    const acceptedAt = performance.now();
    const context = new RunContext(logs, acceptedAt + this.config.JOB_TIMEOUT_MS);
    this.#active.add(context);
    if (!this.#deadlineArmed) this.#armDeadline(this.config.JOB_TIMEOUT_MS);
    if (this.wrapUp.aborted) context.stop(shuttingDown());
    if (caller) context.cancelWhenClosed(caller);

    const queued = input instanceof QueuedInput;
    let outcome: JobOutcome;
    try {
      if (queued && !(await this.#slot(context))) {
        outcome = this.#failure(context.stopped, logs);
      } else {
        context.started = true;
        outcome = this.#success(await this.#execute(job, input, context), logs);
      }
    } catch (error) {
      outcome = this.#failure(context.stopped ?? error, logs);
    } finally {
      if (queued) input.drop();
      this.#active.delete(context);
      context.forgetCaller();
    }
    const result = outcomeLabel(outcome);
    this.metrics.jobs.inc({ job: job.name, outcome: result });
    if (!outcome.ok) {
      const durationMs = Math.round(performance.now() - acceptedAt);
      logs.log.warn({ job: job.name, durationMs, started: context.started, statusCode: outcome.statusCode, errorCode: outcome.errorCode }, `job ${result.replace("_", " ")}`);
    }
    return outcome;
  }

  /**
   * The one deadline timer, due in `ms`. Unreferenced: it never keeps the process alive by itself (a
   * running job does, by what it waits on; the server and the drain do the rest).
   */
  #armDeadline(ms: number): void {
    this.#deadlineArmed = true;
    setTimeout(this.#expire, Math.max(1, Math.ceil(ms))).unref();
  }

  /** Stops every job past its deadline, then sets the timer for the oldest one left, if any. */
  readonly #expire = (): void => {
    this.#deadlineArmed = false;
    const now = performance.now();
    for (const context of this.#active) {
      if (context.stopped) continue; // stopped already, and about to leave the list
      if (context.deadline > now) {
        this.#armDeadline(context.deadline - now);
        return;
      }
      context.stop(timedOut(this.config.JOB_TIMEOUT_MS, context.started));
    }
  };

  /** Waits in the queue: true when a slot passed to this job, false when it was stopped first. */
  #slot(context: RunContext): Promise<boolean> {
    return new Promise((resolve) => {
      const granted = () => {
        context.onStop = undefined;
        resolve(true);
      };
      this.#queue.add(granted);
      this.metrics.load.queued = this.#queue.size;
      context.onStop = () => {
        this.#queue.delete(granted);
        this.metrics.load.queued = this.#queue.size;
        resolve(false);
      };
    });
  }

  /**
   * Runs a job that holds a slot: its output, or a rejection as soon as it is stopped (timeout, shutdown,
   * caller gone), whichever comes first, so a job that ignores its signal still ends on time. The slot is
   * released when the job's own promise settles, even after a stop: a job that ignores its signal keeps
   * counting against the limit while it runs. One promise per job.
   */
  #execute(job: Job, input: unknown, context: RunContext): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      context.onStop = reject;
      let work: Promise<unknown>;
      try {
        if (context.stopped) throw context.stopped; // stopped as its slot came: it never runs
        // A queued input is made again from its JSON here, inside the try: whatever that throws still releases the slot.
        work = job.run(input instanceof QueuedInput ? input.take() : input, context);
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
  }

  /** A slot is free: it passes to the oldest queued job, if any. */
  #release(): void {
    const next = this.#queue.values().next();
    if (!next.done) {
      this.#queue.delete(next.value);
      this.metrics.load.queued = this.#queue.size;
      next.value();
      return;
    }
    this.metrics.load.running = --this.#running;
  }

  /** A job's output, as the JSON text ADF will get, or the failure it amounts to. */
  #success(output: unknown, logs: LogSource): JobOutcome {
    if (!isJsonObject(output)) return failed(500, "JobOutputInvalid", "The job returned no JSON object.");
    const json = this.#json(output, logs);
    return typeof json === "string" ? { ok: true, output: json } : json;
  }

  #failure(error: unknown, logs: LogSource): JobOutcome {
    if (error instanceof JobStopped) return failed(error.statusCode, error.errorCode, error.message);
    if (error instanceof JobFailure) {
      // A failure keeps its own code; an output that cannot go with it is dropped (and logged).
      const json = this.#json(error.output, logs);
      return { ...failed(error.statusCode, error.errorCode, error.message), output: typeof json === "string" ? json : "{}" };
    }
    logs.log.error({ err: error }, "job threw");
    return failed(500, "JobFailed", "The job failed unexpectedly; its log has the details.");
  }

  /** JSON text of an output within MAX_OUTPUT_BYTES, or the failure it is. */
  #json(output: object, logs: LogSource): string | JobOutcome {
    let json: string;
    try {
      json = JSON.stringify(output);
    } catch (error) {
      logs.log.error({ err: error }, "job output is not serialisable as JSON");
      return failed(500, "JobOutputInvalid", "The job's output could not be serialised as JSON.");
    }
    const max = this.config.MAX_OUTPUT_BYTES;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: most outputs are measured without a scan.
    const bytes = json.length * 3 <= max ? json.length : Buffer.byteLength(json);
    if (bytes > max) {
      logs.log.warn({ bytes }, "job output too large");
      return failed(500, "JobOutputTooLarge", `The job's output is ${bytes} bytes of JSON, more than MAX_OUTPUT_BYTES (${max}); ADF takes about 4 MB at most.`);
    }
    return json;
  }
}

/**
 * A queued job's input, held as the UTF-8 bytes of its JSON (the size the backlog counts) until the job
 * starts (`take`) or is over without starting (`drop`). No closure here keeps the parsed input alive as well.
 */
class QueuedInput {
  #bytes: Buffer | undefined;

  constructor(
    json: string,
    private readonly revive: (json: string) => unknown,
  ) {
    this.#bytes = Buffer.from(json, "utf8");
  }

  take(): unknown {
    const text = this.#bytes!.toString("utf8");
    this.#bytes = undefined;
    return this.revive(text);
  }

  drop(): void {
    this.#bytes = undefined;
  }
}

/**
 * The jobs accepted and not yet over, oldest first: a list linked through the jobs' own contexts. Adding
 * and removing costs two pointer writes and allocates nothing; a Set that gains and loses an entry per
 * request reallocates its table as it goes.
 */
class ActiveJobs implements Iterable<RunContext> {
  #oldest: RunContext | undefined;
  #newest: RunContext | undefined;

  add(context: RunContext): void {
    context.older = this.#newest;
    if (this.#newest) this.#newest.newer = context;
    else this.#oldest = context;
    this.#newest = context;
  }

  delete(context: RunContext): void {
    if (context.older) context.older.newer = context.newer;
    else if (this.#oldest === context) this.#oldest = context.newer;
    else return; // not in the list
    if (context.newer) context.newer.older = context.older;
    else this.#newest = context.older;
    context.older = context.newer = undefined;
  }

  /** Oldest first; an entry deleted during the walk does not end it. */
  *[Symbol.iterator](): Iterator<RunContext> {
    for (let context = this.#oldest; context; ) {
      const next = context.newer;
      yield context;
      context = next;
    }
  }
}

/** A Web activity's response, marked with its job while the job runs (see RunContext.cancelWhenClosed). */
const RUNNING_JOB = Symbol("runningJob");
type WatchedResponse = ServerResponse & { [RUNNING_JOB]?: RunContext | undefined };

/**
 * The one "close" listener of every watched response: the response closed; if its answer was not written,
 * the caller disconnected and its job is cancelled. One function for all, not a closure over each job: a
 * closure per request kept about 300 bytes a request alive into the old generation under load (its RSS
 * grew by about 6 MB a second between full collections; bench/README.md).
 */
function cancelRunningJob(this: WatchedResponse): void {
  const context = this[RUNNING_JOB];
  if (context && !this.writableEnded) context.stop(callerGone());
}

/**
 * What a running job sees (`signal`, `log`) and how it is stopped. A class, not an object literal with
 * getters: it is made for every job, and prototype getters keep that cheap. The signal and the logger
 * are made only if the job asks for them; most short jobs never do.
 */
class RunContext implements JobContext {
  #controller: AbortController | undefined;
  stopped: JobStopped | undefined;
  /** Whether the job got its slot and ran (a queued job may be stopped before). */
  started = false;
  /** Told once when the job is stopped: whatever it waits on now, its slot or its own run. */
  onStop: ((reason: JobStopped) => void) | undefined;

  #caller: WatchedResponse | undefined;
  /** Its neighbours in ActiveJobs. */
  older: RunContext | undefined;
  newer: RunContext | undefined;

  constructor(
    private readonly logs: LogSource,
    /** When it times out (`performance.now()` time): JOB_TIMEOUT_MS after its acceptance. */
    readonly deadline: number,
  ) {}

  /** Stops the job if the response closes before the answer is written: the caller disconnected. */
  cancelWhenClosed(response: WatchedResponse): void {
    this.#caller = response;
    response[RUNNING_JOB] = this;
    response.on("close", cancelRunningJob);
  }

  forgetCaller(): void {
    const caller = this.#caller;
    if (!caller) return;
    caller[RUNNING_JOB] = undefined;
    caller.off("close", cancelRunningJob);
    this.#caller = undefined;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.stopped) this.#controller.abort(this.stopped);
    return this.#controller.signal;
  }

  get log(): Logger {
    return this.logs.log;
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
