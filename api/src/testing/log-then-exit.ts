/**
 * A child process for the log-delivery tests: logs `count` lines through the production logger
 * (stdout), letting the event loop turn every 50 lines so that writes are under way, then logs
 * "last line" and ends at once: `exit` calls process.exit(3), `throw` throws an uncaught error.
 */
import { createLogger } from "../framework/logging.js";

const [count = "1000", how = "exit"] = process.argv.slice(2);
const logger = createLogger("info");
for (let i = 0; i < Number(count); i++) {
  logger.info({ i, padding: "x".repeat(200) }, "line");
  if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
}
logger.info("last line");
if (how === "exit") process.exit(3);
if (how === "throw") throw new Error("thrown after logging");
