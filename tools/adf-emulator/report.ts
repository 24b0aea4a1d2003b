/**
 * The report: what ADF would show for an activity run, and the command line's exit code for it. Much
 * of it comes from the endpoint (error codes and messages, the output, status texts), so all of it is
 * printed through printable.ts: nothing a server sent can move the cursor or reach the terminal.
 */
import type { ActivityResult, ActivityStatus } from "./activity.js";
import { printableLine, printableText } from "./printable.js";
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
    lines.push(`  Error code: ${printableLine(result.error.errorCode)}`);
    // A message of several lines (an endpoint's body) stays indented under its label: no line of it
    // can pass for a line of the report.
    lines.push(`  Message:    ${printableText(result.error.message).split("\n").join(`\n${" ".repeat(14)}`)}`);
  }
  lines.push("Output:");
  // JSON.stringify escapes C0 controls in strings, not C1 or bidi controls: printableText does.
  lines.push(result.output === undefined ? "  (none)" : indent(printableText(JSON.stringify(result.output, null, 2))));
  lines.push("Timings:");
  if (result.endpoint) {
    lines.push(`  endpoint answered ${result.endpoint.status} ${printableLine(result.endpoint.statusText)} after ${formatMs(result.endpoint.ms)}`);
  } else if (result.status !== "Cancelled") {
    lines.push("  the endpoint did not answer");
  }
  if (result.activity === "Webhook") {
    lines.push(result.callback ? `  callback received after ${formatMs(result.callback.ms)}` : "  no callback received");
  }
  if (result.polls && result.finalAnswer) {
    lines.push(
      `  ${result.polls} poll${result.polls === 1 ? "" : "s"}; final answer ${result.finalAnswer.status} ${printableLine(result.finalAnswer.statusText)} after ${formatMs(result.finalAnswer.ms)}`,
    );
  }
  lines.push(`  total ${formatMs(result.totalMs)}`);
  if (result.callBackUri) lines.push(`callBackUri: ${printableLine(result.callBackUri)} (token masked)`);
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
