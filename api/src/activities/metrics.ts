import { Counter, Gauge, type Registry } from "prom-client";

/** What the runner and the backlog hold now: plain numbers they update, read only when the gauges are scraped. */
export interface JobLoad {
  running: number;
  queued: number;
  queuedBytes: number;
  callbacksPending: number;
}

/** What ADF cannot see: how jobs ended and how hard their callbacks were to deliver. */
export function createJobMetrics(registry: Registry) {
  // Read at scrape time: setting a gauge on every change hashed its (empty) label set each time, twice a job.
  const load: JobLoad = { running: 0, queued: 0, queuedBytes: 0, callbacksPending: 0 };
  const sampled = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  sampled("jobs_running", "Jobs running now.", () => load.running);
  sampled("jobs_queued", "Webhook jobs accepted and waiting for a slot (at most MAX_QUEUED_JOBS).", () => load.queued);
  sampled(
    "callbacks_pending",
    "Callbacks waiting to be delivered, retries included (new webhook calls are refused at MAX_PENDING_CALLBACKS).",
    () => load.callbacksPending,
  );
  sampled(
    "queued_bytes",
    "Bytes held by webhook work: inputs of jobs accepted and not ended, and callbacks waiting to be delivered (new webhook calls are refused past MAX_QUEUED_BYTES).",
    () => load.queuedBytes,
  );
  return {
    load,
    jobs: new Counter({
      name: "jobs_total",
      help: "Jobs by name and outcome: accepted (webhook), rejected (busy), succeeded, failed, timed_out, interrupted (shutdown), cancelled (a Web activity's caller disconnected).",
      labelNames: ["job", "outcome"] as const,
      registers: [registry],
    }),
    callbackAttempts: new Counter({
      name: "callback_attempts_total",
      help: "Callback POSTs by result: delivered, retryable (network error, timeout, 408, 429, 5xx) or rejected.",
      labelNames: ["result"] as const,
      registers: [registry],
    }),
    callbackRetries: new Counter({ name: "callback_retries_total", help: "Callback attempts that were retries.", registers: [registry] }),
    callbackGiveUps: new Counter({
      name: "callback_give_ups_total",
      help: "Callbacks never delivered, by reason: rejected (a 3xx/4xx answer or a blocked address), exhausted (attempts used up) or shutdown.",
      labelNames: ["reason"] as const,
      registers: [registry],
    }),
  };
}

export type JobMetrics = ReturnType<typeof createJobMetrics>;
