import { Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The process's Prometheus registry with the HTTP metrics; features add their own metrics to it. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const labelNames = ["method", "route", "status"] as const;
  return {
    registry,
    // Its _count series is the request count: one metric, one label lookup per request.
    requests: new Histogram({
      name: "http_request_duration_seconds",
      help: "HTTP requests answered and the time taken, by method, route and status.",
      labelNames,
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The statuses this API answers with, labelled exactly (the values dashboards already use); any other
 * status (a job's own 4xx/5xx, say) becomes its class, `4xx` or `5xx`, so label values stay few.
 */
const LABELLED_STATUSES = new Set([200, 201, 202, 204, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409, 413, 415, 417, 422, 429, 431, 500, 501, 502, 503, 504]);

/** A status as a metric label: exact for the known ones, else its class. */
export function statusLabel(status: number): string {
  if (LABELLED_STATUSES.has(status)) return String(status);
  return status >= 100 && status <= 599 ? `${Math.floor(status / 100)}xx` : "other";
}

/** Counts and times one request by route pattern and status (called by the request pipeline). */
export function observeRequest(metrics: Metrics, method: string, route: string, status: number, seconds: number): void {
  metrics.requests.observe({ method, route, status: statusLabel(status) }, seconds);
}
