import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

import { startApiProcess } from "../testing/process.js";
import { heldUpload } from "../testing/uploads.js";
import { memoryOf, mib, POD_MEMORY_LIMIT_BYTES } from "../testing/memory.js";

/**
 * Issue 13: with a callback host that hangs and outputs near the body limit, 250 webhook calls took the
 * process from 66 MB to over 600 MB of RSS, past the pod's 256 MiB memory limit (stack/config/app.ts,
 * memoryLimit). Pending callbacks and queued inputs now share one byte budget (MAX_QUEUED_BYTES): what
 * cannot be held is refused up front with 503 and Retry-After (once the budget is spent, on its
 * Content-Length, before the body is read), and the process stays under the limit.
 * The API runs as its own process (listen.ts, with the default settings but for callbacks on loopback
 * that never time out), and its peak RSS is read from the kernel (VmHWM).
 */

const CALLS = 250;
const IN_FLIGHT = 10;

describe("reliability: memory under a hung callback host", function () {
  this.timeout(120_000);

  it(`${CALLS} webhook calls with near-limit outputs: the process stays under the pod's 256 MiB, the rest is refused up front`, async () => {
    // Accepts each callback's connection and never answers, nor reads the body.
    const hanging = new Set<IncomingMessage>();
    const receiver = createServer((req) => void hanging.add(req));
    receiver.listen(0, "127.0.0.1");
    await once(receiver, "listening");
    const callbackBase = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;

    const api = await startApiProcess({ CALLBACK_ALLOW_INSECURE: "true", CALLBACK_TIMEOUT_MS: "600000" });
    try {
      const pid = api.child.pid!;
      const atStart = memoryOf(pid);
      // One call is as large as BODY_LIMIT (1 MiB by default) allows, and all of it is the job's output.
      const output = { data: "x".repeat(1024 * 1024 - 200) };
      const answers: Array<{ status: number; retryAfter: string | null; code?: string }> = [];
      for (let sent = 0; sent < CALLS; sent += IN_FLIGHT) {
        const batch = Array.from({ length: Math.min(IN_FLIGHT, CALLS - sent) }, async (_, i) => {
          const res = await fetch(`${api.url}/simulate`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ output, callBackUri: `${callbackBase}/cb/${sent + i}` }),
          });
          const body = (await res.json()) as { error?: { code: string } };
          answers.push({ status: res.status, retryAfter: res.headers.get("retry-after"), code: body.error?.code });
        });
        await Promise.all(batch);
      }
      const accepted = answers.filter((a) => a.status === 202).length;
      // Every accepted job has ended and is calling back (at most 64 connections to one host at once).
      while (hanging.size < Math.min(accepted, 64)) await once(receiver, "request");
      const metrics = await (await fetch(`${api.metricsUrl}/metrics`)).text();
      const atEnd = memoryOf(pid);
      console.log(
        `      RSS ${mib(atStart.rss)} MiB at start, ${mib(atEnd.rss)} MiB at the end, peak ${mib(atEnd.peak)} MiB; ` +
          `${accepted} of ${CALLS} calls accepted, queued_bytes ${/^queued_bytes (\d+)$/m.exec(metrics)?.[1]}`,
      );

      for (const answer of answers) {
        if (answer.status === 202) continue;
        assert.equal(answer.status, 503, JSON.stringify(answer));
        assert.equal(answer.code, "busy");
        assert.match(answer.retryAfter ?? "", /^[1-9]\d*$/);
      }
      assert.ok(accepted >= 16, `the budget holds a fair number of maximum-size callbacks (accepted ${accepted})`);
      assert.ok(accepted < CALLS, "and refuses what it cannot hold");
      assert.ok(atEnd.peak < POD_MEMORY_LIMIT_BYTES, `peak RSS ${mib(atEnd.peak)} MiB is under the pod's limit`);
    } finally {
      api.child.kill("SIGKILL");
      receiver.closeAllConnections();
      receiver.close();
    }
  });
});

describe("reliability: memory under slow uploads", function () {
  this.timeout(120_000);

  /**
   * Issue 20: 250 connections, each holding back the last byte of a 1 MB body, took the process from about
   * 75 MB to 355 MB of RSS (auth off, default settings): nothing bounded the bodies being received. Now
   * they share MAX_BODY_BYTES_IN_FLIGHT (16 MiB by default): the rest are refused (503 busy) before they are read.
   */
  it(`${CALLS} uploads of 1 MB holding back their last byte: the process stays far under the pod's 256 MiB, the rest is refused 503 busy`, async () => {
    const api = await startApiProcess();
    const uploads: Array<Awaited<ReturnType<typeof heldUpload>>> = [];
    try {
      const pid = api.child.pid!;
      const atStart = memoryOf(pid);
      const port = Number(new URL(api.url).port);
      const body = JSON.stringify({ output: { data: "x".repeat(1_000_000 - 30) } });
      uploads.push(...(await Promise.all(Array.from({ length: CALLS }, () => heldUpload(port, "/simulate", body)))));
      // 16 bodies of 1,000,000 bytes fit the default 16 MiB; every other upload is answered 503 busy (its
      // 503 may come a moment after its 100 Continue). Bounded: unbounded, none is ever refused.
      const refusedNow = () => uploads.filter((upload) => / 503 [\s\S]*"busy"/.test(upload.received())).length;
      const deadline = Date.now() + 20_000;
      while (refusedNow() < CALLS - 16 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      const atEnd = memoryOf(pid);
      const refused = refusedNow();
      const reading = uploads.filter((upload) => /^HTTP\/1\.1 100 Continue\r\n\r\n$/.test(upload.received())).length;
      console.log(
        `      RSS ${mib(atStart.rss)} MiB at start, ${mib(atEnd.rss)} MiB with the uploads held, peak ${mib(atEnd.peak)} MiB (+${mib(atEnd.peak - atStart.rss)}); ` +
          `${reading} uploads being read, ${refused} refused`,
      );
      assert.equal(reading + refused, CALLS, "each upload is being read or was refused");
      assert.equal(reading, 16, "MAX_BODY_BYTES_IN_FLIGHT / 1 MB are read at once, no more");
      // Unbounded, the held bodies alone were 250 MB (RSS grew by about 280 MB); bounded, 16 MB held, and the
      // refused bodies' bytes read only to be dropped (Node drains a body nobody read).
      assert.ok(atEnd.peak - atStart.rss < 128 * 1024 ** 2, `RSS grew by ${mib(atEnd.peak - atStart.rss)} MiB`);
      assert.ok(atEnd.peak < POD_MEMORY_LIMIT_BYTES, `peak RSS ${mib(atEnd.peak)} MiB is under the pod's limit`);
    } finally {
      uploads.forEach((upload) => upload.socket.destroy());
      api.child.kill("SIGKILL");
    }
  });
});
