/**
 * The command line: `npm run platform -- up | env | down`. The platform's modules are loaded here, so a
 * setting they refuse when they read it (ADF_PLATFORM_STATE) ends in its message, not a stack trace.
 */
import { trapInterrupts } from "./interrupts.js";

const log = (line: string) => process.stderr.write(`platform: ${line}\n`);

trapInterrupts(log);
try {
  const { main } = await import("./index.js");
  await main(process.argv[2]);
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  if (process.exitCode === undefined || process.exitCode === 0) process.exitCode = 1;
}
