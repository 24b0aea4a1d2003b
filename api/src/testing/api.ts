import type { Server } from "node:http";

import { createApp, createMetricsApp } from "../app.js";
import { loadConfig } from "../config.js";
import { Drain } from "../framework/drain.js";
import { createMetrics } from "../framework/metrics.js";
import { boundPort, listen, type ServerTimeouts, DEFAULT_TIMEOUTS } from "../framework/server.js";
import type { Job } from "../jobs/job.js";
import type { CallbackTransport } from "../callbacks/sender.js";
import type { HostLookup } from "../callbacks/callback-uri.js";
import { capturedLogger } from "./logs.js";

export interface RunningApi {
  url: string;
  /** The metrics port's base URL (`${metricsUrl}/metrics`), as listen.ts serves it. */
  metricsUrl: string;
  server: Server;
  drain: Drain;
  /** Every log line the app wrote, parsed. */
  logs: Array<Record<string, unknown>>;
  /** The first log line, already written or still to come, that `match` accepts. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  /** Closes the servers and ends the work still in the background (jobs, callback retries), as a drain's wrap-up does. */
  close(): Promise<void>;
}

/**
 * The real app on a real socket (127.0.0.1, a free port), configured like the process would be from
 * `env`, with its logs captured for assertions.
 */
export async function startApi(
  env: Record<string, string> = {},
  options: { jobs?: readonly Job[]; timeouts?: Partial<ServerTimeouts>; lookup?: HostLookup; callbackTransport?: CallbackTransport } = {},
): Promise<RunningApi> {
  const config = loadConfig({ LOG_LEVEL: "debug", ...env });
  const waiters = new Set<(line: Record<string, unknown>) => void>();
  const { logger, lines: logs } = capturedLogger(config.LOG_LEVEL, (line) => waiters.forEach((wake) => wake(line)));
  const waitForLog = (match: (line: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const found = logs.find(match);
      if (found) return resolve(found);
      const wake = (line: Record<string, unknown>) => {
        if (!match(line)) return;
        waiters.delete(wake);
        resolve(line);
      };
      waiters.add(wake);
    });
  const drain = new Drain();
  const metrics = createMetrics();
  const app = createApp({ config, logger, drain, metrics, ...(options.jobs ? { jobs: options.jobs } : {}), lookup: options.lookup, callbackTransport: options.callbackTransport });
  const server = await listen(app.callback(), "127.0.0.1", 0, { ...DEFAULT_TIMEOUTS, ...options.timeouts }, logger, metrics);
  const metricsServer = await listen(createMetricsApp(metrics, logger).callback(), "127.0.0.1", 0, DEFAULT_TIMEOUTS, logger);
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
    waitForLog,
    close: async () => {
      await Promise.all([closeServer(server), closeServer(metricsServer)]);
      // Jobs and callback retries outlive the servers: stop them so that no test leaves timers behind.
      drain.begin();
      drain.wrapUpNow();
      await drain.settled(Date.now() + 10_000);
    },
  };
}
