// pr-comment.ts against a real HTTP server on 127.0.0.1 that keeps pull request threads the way the
// Azure DevOps REST API does (testing/threads-server.ts).
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { ACTIVE, CLOSED, threadsServer, TOKEN } from "../testing/threads-server.js";
import { formatReport, MAX_REPORT_CHARS, THREAD_TAG, upsertThread, type Report } from "./pr-comment.js";

const report = (stack: string, output: string, exitCode = 0): Report => ({ command: "preview", stack, exitCode, output });

describe("pr-comment: one preview thread per pull request and stack", () => {
  let api: Awaited<ReturnType<typeof threadsServer>>;
  beforeEach(async () => {
    api = await threadsServer();
  });
  afterEach(async () => {
    await api.close();
  });

  it("creates one closed thread, tagged with the stack, on the first run", async () => {
    assert.equal(await upsertThread(api.pr, report("dev", "+ 3 to create")), "created");
    assert.equal(api.threads.length, 1);
    const [thread] = api.threads;
    assert.equal(thread.status, CLOSED, "closed: it never blocks completion");
    assert.equal(thread.properties?.[THREAD_TAG]?.$value, "dev");
    assert.equal(thread.comments.length, 1);
    assert.match(thread.comments[0].content, /^#### `pulumi preview` on `dev` \(exit code 0\)/);
    assert.match(thread.comments[0].content, /\+ 3 to create/);
  });

  it("updates that thread's comment on later runs instead of adding threads, and closes it again if reopened", async () => {
    await upsertThread(api.pr, report("dev", "first run"));
    api.threads[0].status = ACTIVE; // a reviewer reopened it
    assert.equal(await upsertThread(api.pr, report("dev", "second run", 1)), "updated");
    assert.equal(await upsertThread(api.pr, report("dev", "third run")), "updated");
    assert.equal(api.threads.length, 1);
    const [thread] = api.threads;
    assert.equal(thread.comments.length, 1, "one comment, edited in place");
    assert.match(thread.comments[0].content, /third run/);
    assert.doesNotMatch(thread.comments[0].content, /first run|second run/);
    assert.equal(thread.status, CLOSED);
  });

  it("keeps a thread per stack and leaves everyone else's threads alone", async () => {
    api.threads.push({ id: 1, status: ACTIVE, comments: [{ id: 1, parentCommentId: 0, content: "please rename this" }] });
    api.threads.push({ id: 2, status: ACTIVE, properties: { source: { $type: "System.String", $value: "Pulumi" } }, comments: [{ id: 1, parentCommentId: 0, content: "the Pulumi task's" }] });
    await upsertThread(api.pr, report("dev", "dev preview"));
    await upsertThread(api.pr, report("org/adf-webhook-aks/prod", "prod preview"));
    await upsertThread(api.pr, report("dev", "dev again"));
    assert.equal(api.threads.length, 4);
    assert.deepEqual(
      api.threads.slice(0, 2).map((t) => [t.status, t.comments.map((c) => c.content)]),
      [
        [ACTIVE, ["please rename this"]],
        [ACTIVE, ["the Pulumi task's"]],
      ],
    );
    const mine = api.threads.slice(2);
    assert.deepEqual(
      mine.map((t) => t.properties?.[THREAD_TAG]?.$value),
      ["dev", "org/adf-webhook-aks/prod"],
    );
    assert.match(mine[0].comments[0].content, /dev again/);
    assert.match(mine[1].comments[0].content, /prod preview/);
  });

  it("adds a comment to its thread when the thread has none left to edit", async () => {
    await upsertThread(api.pr, report("dev", "first"));
    api.threads[0].comments = [];
    assert.equal(await upsertThread(api.pr, report("dev", "second")), "updated");
    assert.equal(api.threads.length, 1);
    assert.deepEqual(
      api.threads[0].comments.map((c) => c.content.includes("second")),
      [true],
    );
  });

  it("fails with the request that failed, never with the token in the message", async () => {
    const wrong = { ...api.pr, accessToken: "wrong" };
    await assert.rejects(upsertThread(wrong, report("dev", "x")), (error: Error) => {
      assert.match(error.message, /^GET http:\/\/127\.0\.0\.1:\d+\/org\/project-id\/_apis\/git\/repositories\/repo-id\/pullRequests\/42\/threads: HTTP 401$/);
      return true;
    });
  });

  it("runs as the pipeline runs it: a child process reading Azure Pipelines' variables and the log file", async function () {
    this.timeout(30_000);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pr-comment-"));
    try {
      const log = path.join(dir, "pulumi-output.log");
      fs.writeFileSync(log, "\x1b[32m+ \x1b[0mkubernetes:apps/v1:Deployment api create\n");
      const env = {
        PATH: process.env.PATH,
        SYSTEM_ACCESSTOKEN: TOKEN,
        SYSTEM_COLLECTIONURI: api.pr.collectionUri,
        SYSTEM_TEAMPROJECTID: "project-id",
        BUILD_REPOSITORY_ID: "repo-id",
        SYSTEM_PULLREQUEST_PULLREQUESTID: "42",
      };
      const script = path.join(import.meta.dirname, "pr-comment.ts");
      for (const expected of ["created", "updated"]) {
        const child = spawn(process.execPath, ["--import", "tsx", script, "--command", "preview", "--stack", "dev", "--exit-code", "0", "--log", log], { env });
        let output = "";
        child.stdout.on("data", (c: Buffer) => (output += c.toString()));
        child.stderr.on("data", (c: Buffer) => (output += c.toString()));
        const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
        assert.equal(code, 0, output);
        assert.equal(output.trim(), `pull request thread for dev: ${expected}`);
        assert.ok(!output.includes(TOKEN));
      }
      assert.equal(api.threads.length, 1);
      assert.match(api.threads[0].comments[0].content, /\n\+ kubernetes:apps\/v1:Deployment api create\n/, "colours stripped");
      const missing = spawn(process.execPath, ["--import", "tsx", script, "--command", "preview", "--stack", "dev", "--log", log], {
        env: { ...env, SYSTEM_ACCESSTOKEN: "" },
      });
      let errors = "";
      missing.stderr.on("data", (c: Buffer) => (errors += c.toString()));
      assert.equal(await new Promise<number | null>((resolve) => missing.on("close", resolve)), 1);
      assert.match(errors, /SYSTEM_ACCESSTOKEN is not set/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("pr-comment: the comment's text", () => {
  it("keeps the tail of a very long report and cannot be closed early by backticks in the output", () => {
    const text = formatReport({ command: "preview", stack: "dev", exitCode: 0, output: `${"x".repeat(MAX_REPORT_CHARS)}\n\`\`\`\nend` });
    assert.ok(text.length < MAX_REPORT_CHARS + 500);
    assert.match(text, /\(first \d+ characters cut\)/);
    assert.equal(text.match(/^```$/gm)?.length, 2, "only the report's own fence");
    assert.match(text, /end\n```\n\n<\/details>\n$/);
  });
});
