import type { LogSource } from "../activities/adf-outcome.js";
import { createLogger, type Logger } from "../framework/logging.js";

export type LogLine = Record<string, unknown>;

/**
 * The production logger (createLogger) writing to memory: every line, parsed, in `lines`; `wake` is told
 * of each as it is written. `logs` is the same logger as a LogSource (what the job runner takes).
 */
export function capturedLogger(level = "debug", wake?: (line: LogLine) => void): { logger: Logger; lines: LogLine[]; logs: LogSource } {
  const lines: LogLine[] = [];
  const logger = createLogger(level, {
    write: (text: string) => {
      const line = JSON.parse(text) as LogLine;
      lines.push(line);
      wake?.(line);
    },
  });
  return { logger, lines, logs: { log: logger } };
}
