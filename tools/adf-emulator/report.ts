/** The report: what ADF would show for an activity run, and the command line's exit code for it. */
import type { ActivityResult, ActivityStatus } from "./activity.js";
import { formatMs } from "./timespan.js";

function indent(text: string, by = "  "): string {
  return text
    .split("\n")
    .map((line) => by + line)
    .join("\n");
}

/** What ADF would show: status, error, output, timings. */
export function formatReport(result: ActivityResult): string {
  const lines: string[] = [];
  lines.push(`${result.activity} activity: ${result.status}`);
  if (result.error) {
    lines.push(`  Error code: ${result.error.errorCode}`);
    lines.push(`  Message:    ${result.error.message}`);
  }
  lines.push("Output:");
  lines.push(result.output === undefined ? "  (none)" : indent(JSON.stringify(result.output, null, 2)));
  lines.push("Timings:");
  if (result.endpoint) {
    lines.push(`  endpoint answered ${result.endpoint.status} ${result.endpoint.statusText} after ${formatMs(result.endpoint.ms)}`);
  } else if (result.status !== "Cancelled") {
    lines.push("  the endpoint did not answer");
  }
  if (result.activity === "Webhook") {
    lines.push(result.callback ? `  callback received after ${formatMs(result.callback.ms)}` : "  no callback received");
  }
  if (result.polls && result.finalAnswer) {
    lines.push(
      `  ${result.polls} poll${result.polls === 1 ? "" : "s"}; final answer ${result.finalAnswer.status} ${result.finalAnswer.statusText} after ${formatMs(result.finalAnswer.ms)}`,
    );
  }
  lines.push(`  total ${formatMs(result.totalMs)}`);
  if (result.callBackUri) lines.push(`callBackUri: ${result.callBackUri} (token masked)`);
  return lines.join("\n");
}
/** Exit codes: 0 Succeeded, 1 Failed, 2 TimedOut, 130 Cancelled (64 is a usage error). */
export function exitCodeFor(status: ActivityStatus): number {
  switch (status) {
    case "Succeeded":
      return 0;
    case "Failed":
      return 1;
    case "TimedOut":
      return 2;
    case "Cancelled":
      return 130;
  }
}
