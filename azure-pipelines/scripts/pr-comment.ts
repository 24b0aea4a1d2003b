// Posts a Pulumi command's output on an Azure Repos pull request: one thread per pull request and
// stack, found again by a tag in the thread's properties and updated in place on every run, and
// closed, so that it never blocks completion under the "Check for comment resolution" policy.
// Pulumi's own Azure Pipelines task finds its thread the same way (a `source: Pulumi` property);
// it adds a comment per run to an active thread, where this edits the one comment of a closed one.
//
// Run by templates/pulumi-steps.yml after `pulumi preview`:
//   node --import tsx azure-pipelines/scripts/pr-comment.ts --command preview --stack dev --exit-code 0 --log <file>
// with SYSTEM_ACCESSTOKEN, SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECTID, BUILD_REPOSITORY_ID and
// SYSTEM_PULLREQUEST_PULLREQUESTID in the environment, as Azure Pipelines sets them.
import * as fs from "node:fs";
import { parseArgs } from "node:util";

/** The thread property that marks a thread as this pipeline's; its value is the stack. */
export const THREAD_TAG = "adf-webhook-aks.pulumiPreview";
/** Pull request threads API version. */
const API_VERSION = "7.1";
/** Comment text above this is cut from the front: Azure DevOps refuses very long comments. */
export const MAX_REPORT_CHARS = 60_000;

/** CommentThreadStatus: closed counts as resolved, so the thread never holds up completion. */
const CLOSED = 4;
/** CommentType text. */
const TEXT = 1;

export interface PullRequest {
  collectionUri: string;
  projectId: string;
  repositoryId: string;
  pullRequestId: number;
  accessToken: string;
}

export interface Report {
  command: string;
  stack: string;
  exitCode: number;
  /** The command's console output, colours and all. */
  output: string;
}

interface Comment {
  id: number;
}
interface Thread {
  id: number;
  comments?: Comment[];
  properties?: Record<string, unknown>;
  isDeleted?: boolean;
}

/** The comment's Markdown: a heading, then the output in a collapsed block, its tail if too long. */
export function formatReport(report: Report): string {
  // eslint-disable-next-line no-control-regex
  let output = report.output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
  if (output.length > MAX_REPORT_CHARS) output = `(first ${output.length - MAX_REPORT_CHARS} characters cut)\n${output.slice(-MAX_REPORT_CHARS)}`;
  const fence = "```";
  return [
    `#### \`pulumi ${report.command}\` on \`${report.stack}\` (exit code ${report.exitCode})`,
    "",
    "<details><summary>Pulumi report</summary>",
    "",
    fence,
    output.replaceAll(fence, "`\u200b``"),
    fence,
    "",
    "</details>",
    "",
  ].join("\n");
}

/** A property's value as the API returns it ({ $type, $value }) or as it was written (plain). */
function propertyValue(value: unknown): unknown {
  return typeof value === "object" && value !== null && "$value" in value ? (value as { $value: unknown }).$value : value;
}

/** Creates the stack's thread on the pull request, or updates it; returns what it did. */
export async function upsertThread(pr: PullRequest, report: Report, fetchImpl: typeof fetch = fetch): Promise<"created" | "updated"> {
  const threads = `${pr.collectionUri.replace(/\/?$/, "/")}${encodeURIComponent(pr.projectId)}/_apis/git/repositories/${encodeURIComponent(
    pr.repositoryId,
  )}/pullRequests/${pr.pullRequestId}/threads`;
  const call = async (method: string, url: string, body?: unknown): Promise<unknown> => {
    const response = await fetchImpl(`${url}?api-version=${API_VERSION}`, {
      method,
      headers: { Authorization: `Bearer ${pr.accessToken}`, "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${method} ${url}: HTTP ${response.status}`);
    return response.status === 204 ? undefined : response.json();
  };

  const content = formatReport(report);
  const list = (await call("GET", threads)) as { value?: Thread[] };
  const mine = (list.value ?? []).filter((t) => !t.isDeleted && propertyValue(t.properties?.[THREAD_TAG]) === report.stack);
  const thread = mine.sort((a, b) => a.id - b.id)[0];
  if (!thread) {
    await call("POST", threads, {
      comments: [{ parentCommentId: 0, content, commentType: TEXT }],
      status: CLOSED,
      properties: { [THREAD_TAG]: report.stack },
    });
    return "created";
  }
  const first = thread.comments?.[0];
  if (first) await call("PATCH", `${threads}/${thread.id}/comments/${first.id}`, { content });
  else await call("POST", `${threads}/${thread.id}/comments`, { parentCommentId: 0, content, commentType: TEXT });
  // Someone may have reopened it: closed again, so that the latest preview never blocks completion.
  await call("PATCH", `${threads}/${thread.id}`, { status: CLOSED });
  return "updated";
}

/** Reads the pull request from Azure Pipelines' variables; throws naming what is missing. */
export function pullRequestFromEnvironment(env: NodeJS.ProcessEnv): PullRequest {
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set (this runs in an Azure Pipelines pull request build, with System.AccessToken mapped)`);
    return value;
  };
  const id = Number(need("SYSTEM_PULLREQUEST_PULLREQUESTID"));
  if (!Number.isInteger(id) || id <= 0) throw new Error("SYSTEM_PULLREQUEST_PULLREQUESTID is not a pull request id");
  return {
    accessToken: need("SYSTEM_ACCESSTOKEN"),
    collectionUri: need("SYSTEM_COLLECTIONURI"),
    projectId: need("SYSTEM_TEAMPROJECTID"),
    repositoryId: need("BUILD_REPOSITORY_ID"),
    pullRequestId: id,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { command: { type: "string" }, stack: { type: "string" }, "exit-code": { type: "string" }, log: { type: "string" } },
  });
  if (!values.command || !values.stack || !values.log) throw new Error("usage: pr-comment.ts --command <command> --stack <stack> --exit-code <n> --log <file>");
  const report: Report = {
    command: values.command,
    stack: values.stack,
    exitCode: Number(values["exit-code"] ?? 0),
    output: fs.readFileSync(values.log, "utf8"),
  };
  const done = await upsertThread(pullRequestFromEnvironment(process.env), report);
  console.log(`pull request thread for ${report.stack}: ${done}`);
}

if (process.argv[1] && /pr-comment\.[cm]?[jt]s$/.test(process.argv[1])) {
  main().catch((error: unknown) => {
    console.error(`pr-comment: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
