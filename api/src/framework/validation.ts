import { z } from "zod";

import { cut, HttpError } from "./errors.js";

/**
 * What an input error echoes of the input, bounded: its first problems, the first unknown keys of each,
 * and each key or path segment cut short. (Issue 25: a body with 60,000 unknown keys got a 709 KB error
 * listing every one of them.)
 */
const MAX_PROBLEMS = 10;
const MAX_KEYS = 10;
const MAX_KEY_CHARS = 64;
const MAX_PROBLEM_CHARS = 200;

/** A 400 invalid_input for input `subject` (a job's name, say) refused by its schema. */
export function invalidInput(subject: string, error: z.ZodError): HttpError {
  return new HttpError(400, "invalid_input", `Invalid input for ${subject}: ${describeIssues(error)}`);
}

/** zod's own rendering (z.prettifyError) of the first problems, each bounded, and a count of the rest. */
function describeIssues(error: z.ZodError): string {
  const shown = error.issues.slice(0, MAX_PROBLEMS).map(bounded);
  const rest = error.issues.length - shown.length;
  return `${z.prettifyError(new z.ZodError(shown))}${rest > 0 ? `\n... and ${rest} more problems` : ""}`;
}

function bounded(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  const path = issue.path.map((segment) => (typeof segment === "string" ? cut(segment, MAX_KEY_CHARS) : segment));
  if (issue.code !== "unrecognized_keys") return { ...issue, path, message: cut(issue.message, MAX_PROBLEM_CHARS) };
  const keys = issue.keys.slice(0, MAX_KEYS).map((key) => cut(key, MAX_KEY_CHARS));
  const rest = issue.keys.length - keys.length;
  const listed = `${keys.map((key) => JSON.stringify(key)).join(", ")}${rest > 0 ? ` and ${rest} more` : ""}`;
  return { ...issue, path, keys, message: `Unrecognized key${issue.keys.length > 1 ? "s" : ""}: ${listed}` };
}
