import type { Server } from "node:http";

import { createApp, createMetricsApp } from "../app.js";
import { loadConfig } from "../config.js";
import { Drain } from "../framework/drain.js";
import { createLogger } from "../framework/logging.js";
import { createMetrics } from "../framework/metrics.js";
import { boundPort, listen, type ServerTimeouts, DEFAULT_TIMEOUTS } from "../framework/server.js";
import type { Job } from "../jobs/job.js";

export interface RunningApi {
  url: string;
  /** The metrics port's base URL (`${metricsUrl}/metrics`), as listen.ts serves it. */
  metricsUrl: string;
  server: Server;
  drain: Drain;
  /** Every log line the app wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * The real app on a real socket (127.0.0.1, a free port), configured like the process would be from
 * `env`, with its logs captured for assertions.
 */
export async function startApi(
  env: Record<string, string> = {},
  options: { jobs?: readonly Job[]; timeouts?: Partial<ServerTimeouts> } = {},
): Promise<RunningApi> {
  const config = loadConfig({ LOG_LEVEL: "debug", ...env });
  const logs: Array<Record<string, unknown>> = [];
  const logger = createLogger(config.LOG_LEVEL, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const drain = new Drain();
  const metrics = createMetrics();
  const app = createApp({ config, logger, drain, metrics, ...(options.jobs ? { jobs: options.jobs } : {}) });
  const server = await listen(app.callback(), "127.0.0.1", 0, { ...DEFAULT_TIMEOUTS, ...options.timeouts }, logger);
  const metricsServer = await listen(createMetricsApp(metrics).callback(), "127.0.0.1", 0, DEFAULT_TIMEOUTS, logger);
  const closeServer = (s: Server) =>
    new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${boundPort(server)}`,
    metricsUrl: `http://127.0.0.1:${boundPort(metricsServer)}`,
    server,
    drain,
    logs,
    close: async () => {
      await Promise.all([closeServer(server), closeServer(metricsServer)]);
    },
  };
}
