// Azure Pipelines' triggers and path filters, for the pipelines' tests (pipelines.test.ts): whether a
// push or a pull request with given changed files starts a pipeline.
import { strict as assert } from "node:assert";

import { isMapping, type Pipeline } from "./templates.js";

export interface Filter {
  include?: string[];
  exclude?: string[];
}

/**
 * Azure Pipelines' path filters: relative to the repository root, case-sensitive; a filter without
 * wildcards is a prefix (a folder and everything under it, or that file); `*` and `?` stay within one
 * path segment and `**` spans any number; an exclude wins over an include; no include means all.
 */
export function pathMatches(filter: string, file: string): boolean {
  const f = filter.replace(/^\/+/, "").replace(/\/+$/, "");
  if (!/[*?]/.test(f)) return f === "" || file === f || file.startsWith(`${f}/`);
  const re = f
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => (part === "**/" ? "(?:.*/)?" : part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${re}$`).test(file);
}

export function filterMatches(filter: Filter | undefined, changed: string[]): boolean {
  const include = filter?.include?.length ? filter.include : [""];
  const exclude = filter?.exclude ?? [];
  return changed.some((file) => include.some((f) => pathMatches(f, file)) && !exclude.some((f) => pathMatches(f, file)));
}

function branchMatches(filter: Filter | undefined, branch: string): boolean {
  const name = branch.replace(/^refs\/heads\//, "");
  return filterMatches(
    filter && { include: filter.include?.map((b) => b.replace(/^refs\/heads\//, "")), exclude: filter.exclude?.map((b) => b.replace(/^refs\/heads\//, "")) },
    [name],
  );
}

type Event = { kind: "push" | "pr"; branch: string; changed: string[] };

/** Whether the pipeline's own trigger (`trigger:` for pushes, `pr:` for pull requests) starts a run. */
export function runsOn(p: Pipeline, event: Event): boolean {
  const trigger = event.kind === "push" ? p.raw.trigger : p.raw.pr;
  if (trigger === undefined) return true; // the implied trigger: every branch, every path
  if (trigger === "none") return false;
  if (Array.isArray(trigger)) return branchMatches({ include: trigger.map(String) }, event.branch);
  assert.ok(isMapping(trigger));
  return branchMatches(trigger.branches as Filter | undefined, event.branch) && filterMatches(trigger.paths as Filter | undefined, event.changed);
}
