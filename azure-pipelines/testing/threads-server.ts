// A pull request's comment threads served on 127.0.0.1 the way the Azure DevOps REST API
// (git/pullRequests/threads, api-version 7.1) keeps them: properties come back as { $type, $value },
// statuses as numbers when written as numbers, comments numbered from 1. Used by the tests of
// scripts/pr-comment.ts and by the run of the Pulumi step's script in pipelines.test.ts.
import * as http from "node:http";
import type { AddressInfo } from "node:net";

import type { PullRequest } from "../scripts/pr-comment.js";

export const TOKEN = "system-access-token-not-for-logs";
export const CLOSED = 4;
export const ACTIVE = 1;

export interface Thread {
  id: number;
  status: number;
  properties?: Record<string, { $type: string; $value: unknown }>;
  comments: { id: number; parentCommentId: number; content: string }[];
}

/** An in-memory pull request with the threads API's routes; records every request. */
export async function threadsServer() {
  const threads: Thread[] = [];
  const requests: string[] = [];
  const base = "/org/project-id/_apis/git/repositories/repo-id/pullRequests/42/threads";
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      requests.push(`${req.method} ${url.pathname}`);
      const send = (status: number, value?: unknown) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(value === undefined ? undefined : JSON.stringify(value));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { message: "unauthorized" });
      if (url.searchParams.get("api-version") !== "7.1") return send(400, { message: "api-version" });
      if (!url.pathname.startsWith(base)) return send(404, { message: "no such pull request" });
      const rest = url.pathname.slice(base.length).split("/").filter(Boolean);
      const input = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      const thread = rest[0] ? threads.find((t) => t.id === Number(rest[0])) : undefined;
      if (req.method === "GET" && rest.length === 0) return send(200, { value: threads, count: threads.length });
      if (req.method === "POST" && rest.length === 0) {
        const properties = Object.fromEntries(
          Object.entries((input.properties ?? {}) as Record<string, unknown>).map(([k, v]) => [k, { $type: "System.String", $value: v }]),
        );
        const comments = (input.comments as { content: string }[]).map((c, i) => ({ id: i + 1, parentCommentId: 0, content: c.content }));
        const created: Thread = { id: threads.length + 101, status: input.status as number, properties, comments };
        threads.push(created);
        return send(200, created);
      }
      if (!thread) return send(404, { message: "no such thread" });
      if (req.method === "PATCH" && rest.length === 1) {
        thread.status = input.status as number;
        return send(200, thread);
      }
      if (req.method === "PATCH" && rest[1] === "comments" && rest.length === 3) {
        const comment = thread.comments.find((c) => c.id === Number(rest[2]));
        if (!comment) return send(404, { message: "no such comment" });
        comment.content = String(input.content);
        return send(200, comment);
      }
      if (req.method === "POST" && rest[1] === "comments" && rest.length === 2) {
        const comment = { id: thread.comments.length + 1, parentCommentId: Number(input.parentCommentId ?? 0), content: String(input.content) };
        thread.comments.push(comment);
        return send(200, comment);
      }
      return send(405, { message: "method not allowed" });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const pr: PullRequest = { collectionUri: `http://127.0.0.1:${port}/org/`, projectId: "project-id", repositoryId: "repo-id", pullRequestId: 42, accessToken: TOKEN };
  return { threads, requests, pr, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
