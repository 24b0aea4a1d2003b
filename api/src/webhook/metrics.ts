import { Counter, Gauge, type Registry } from "prom-client";

/** What ADF cannot see: how jobs ended and how hard their callbacks were to deliver. */
export function createJobMetrics(registry: Registry) {
  return {
    jobs: new Counter({
      name: "jobs_total",
      help: "Jobs by name and outcome: accepted (webhook), rejected (busy), succeeded, failed, timed_out, interrupted (shutdown), cancelled (a Web activity's caller disconnected).",
      labelNames: ["job", "outcome"] as const,
      registers: [registry],
    }),
    running: new Gauge({ name: "jobs_running", help: "Jobs running now.", registers: [registry] }),
    queued: new Gauge({ name: "jobs_queued", help: "Webhook jobs accepted and waiting for a slot (at most MAX_QUEUED_JOBS).", registers: [registry] }),
    callbacksPending: new Gauge({
      name: "callbacks_pending",
      help: "Callbacks waiting to be delivered, retries included (new webhook calls are refused at MAX_PENDING_CALLBACKS).",
      registers: [registry],
    }),
    queuedBytes: new Gauge({
      name: "queued_bytes",
      help: "Bytes held by webhook work: inputs of jobs accepted and not ended, and callbacks waiting to be delivered (new webhook calls are refused past MAX_QUEUED_BYTES).",
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
