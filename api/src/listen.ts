import { createApp, createMetricsApp } from "./app.js";
import { ConfigError, loadConfig, type Config } from "./config.js";
import { Drain } from "./framework/drain.js";
import { createLogger } from "./framework/logging.js";
import { createMetrics } from "./framework/metrics.js";
import { boundPort, DEFAULT_TIMEOUTS, listen, shutdown } from "./framework/server.js";
import * as callbackPolicy from "./callbacks/policy.js";

const { wrapUpMs } = callbackPolicy;

/** The process entry point: read the settings, serve, and drain on SIGTERM/SIGINT. */
let config: Config;
try {
  config = loadConfig(process.env, process.argv.slice(2));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const logger = createLogger(config.LOG_LEVEL);
const drain = new Drain();
const metrics = createMetrics();
const app = createApp({ config, logger, drain, metrics });

function cannotListen(port: number) {
  return (error: NodeJS.ErrnoException): never => {
    // One plain line on stderr, as for a bad setting: the process has not started serving.
    console.error(`cannot listen on ${config.HOST}:${port}: ${error.code ?? error.message}`);
    process.exit(1);
  };
}
// Metrics first: once the job port answers, everything is up.
const metricsServer = await listen(createMetricsApp(metrics, logger).callback(), config.HOST, config.METRICS_PORT, DEFAULT_TIMEOUTS, logger).catch(cannotListen(config.METRICS_PORT));
const server = await listen(app.callback(), config.HOST, config.PORT, DEFAULT_TIMEOUTS, logger, metrics).catch(cannotListen(config.PORT));
logger.info({ host: config.HOST, port: boundPort(server), metricsPort: boundPort(metricsServer) }, "listening");

let stopping = false;
let toldAgain = false;
async function stop(reason: string, exitCode: number): Promise<void> {
  if (stopping) {
    // A second signal (kubectl delete twice, Ctrl-C again) must not cut the drain and the shutdown
    // callbacks short: said once, then ignored. Only SIGKILL ends the drain early.
    if (!toldAgain) logger.warn({ reason }, "already draining: ignored, the drain goes on");
    toldAgain = true;
    return;
  }
  stopping = true;
  logger.info({ reason }, "shutting down");
  const clean = await shutdown(server, drain, config.DRAIN_TIMEOUT_MS, logger, wrapUpMs(config));
  // Scrapes are answered until the drain is over, so the last figures can still be read.
  metricsServer.close();
  metricsServer.closeAllConnections();
  logger.flush(() => process.exit(clean ? exitCode : 1));
}

// `on`, not `once`: with no listener left, a second signal would kill the process at once, mid-drain.
process.on("SIGTERM", () => void stop("SIGTERM", 0));
process.on("SIGINT", () => void stop("SIGINT", 0));
// Nothing a client sends should get here; if something does, log it and keep serving.
process.on("unhandledRejection", (reason) => logger.error({ err: reason }, "unhandled promise rejection"));
process.on("uncaughtException", (error) => {
  logger.fatal({ err: error }, "uncaught exception: draining and exiting");
  void stop("uncaughtException", 1);
});
