import assert from "node:assert/strict";
import { once } from "node:events";
import { Agent, get, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

import { startApi, type RunningApi } from "../testing/api.js";
import { pipelineAndRead, pipelinedGet, pipelineFlood } from "../testing/pipelining.js";
import { closeServer, serverWith } from "../testing/servers.js";
import { MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION } from "./pipelining.js";

/**
 * Issue 25: a client that pipelines requests and never reads the answers made the server hold every one
 * of them (10 such connections: RSS 86 -> 405 MB). What one connection makes the server hold is bounded.
 */
describe("pipelining: what one connection makes the server hold is bounded", function () {
  this.timeout(60_000);

  it(`hands at most ${MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION} requests of a connection to the app at once, and answers all of them, in order`, async () => {
    const unanswered: Array<{ path: string; res: ServerResponse }> = [];
    let handed = 0;
    const { server, port } = await serverWith((req, res) => {
      handed++;
      unanswered.push({ path: req.url ?? "", res });
    });
    try {
      const COUNT = 100;
      const requests = Array.from({ length: COUNT }, (_, i) => pipelinedGet(`/r/${i}`)).join("");
      const answers = pipelineAndRead(port, requests, COUNT);
      let mostAtOnce = 0;
      for (let answered = 0; answered < COUNT; answered++) {
        while (unanswered.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
        if (answered === 0) {
          // Every request arrived in one write: give the server the time to hand on more than it may.
          await new Promise((resolve) => setTimeout(resolve, 300));
        }
        mostAtOnce = Math.max(mostAtOnce, unanswered.length);
        const { path, res } = unanswered.shift()!;
        res.writeHead(200, { "content-type": "text/plain", "content-length": Buffer.byteLength(path) }).end(path);
      }
      const received = await answers;
      assert.ok(mostAtOnce <= MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION, `${mostAtOnce} requests of one connection were in the app at once`);
      assert.equal(handed, COUNT);
      assert.deepEqual(
        received.map(({ status, body }) => `${status} ${body}`),
        Array.from({ length: COUNT }, (_, i) => `200 /r/${i}`),
      );
    } finally {
      await closeServer(server);
    }
  });

  it("stops reading from a connection whose answers are not read, holds no more than a few answers for it, and closes it after the request timeout", async () => {
    const ANSWER = "x".repeat(16 * 1024);
    let served = 0;
    const { server, port, sockets } = await serverWith((req, res) => {
      served++;
      res.writeHead(200, { "content-type": "text/plain", "content-length": ANSWER.length }).end(ANSWER);
    }, 1_000);
    // Bounded, the server holds at most a write buffer and the answers of the requests in the app at once.
    const BOUND = 1024 ** 2;
    let mostBuffered = 0;
    const flood = await pipelineFlood(port, pipelinedGet("/"), { connections: 1, durationMs: 3_000 });
    const sampler = setInterval(() => {
      const socket = sockets[0];
      if (!socket) return;
      mostBuffered = Math.max(mostBuffered, socket.writableLength);
      // Unbounded, the answers to a flood grow by gigabytes: stop it before it takes the test down.
      if (socket.writableLength > 16 * BOUND) flood.close();
    }, 10);
    try {
      await flood.done;
      const socket = sockets[0]!;
      // A safety net, not a timing assertion: a connection held with unread answers is closed after 1 s.
      await Promise.race([once(socket, "close"), new Promise((resolve) => setTimeout(resolve, 10_000))]);
      assert.ok(mostBuffered < BOUND, `the server buffered ${mostBuffered} bytes of answers for one connection`);
      assert.ok(served < flood.sent / 10, `it served ${served} of ${flood.sent} requests sent: it stopped reading`);
      assert.ok(socket.destroyed, "the stalled connection was closed");
    } finally {
      clearInterval(sampler);
      flood.close();
      await closeServer(server);
    }
  });

  describe("well-behaved clients, on the real app", () => {
    let api: RunningApi;
    before(async () => {
      api = await startApi({ LOG_LEVEL: "warn" });
    });
    after(() => api.close());

    it("a pipelining client gets every answer, in order, however deep it pipelines", async () => {
      for (const depth of [1, MAX_REQUESTS_IN_FLIGHT_PER_CONNECTION, 500]) {
        const requests = Array.from({ length: depth }, (_, i) => pipelinedGet(i % 2 ? "/healthz" : `/nope/${i}`)).join("");
        const answers = await pipelineAndRead(Number(new URL(api.url).port), requests, depth);
        assert.deepEqual(
          answers.map(({ status }) => status),
          Array.from({ length: depth }, (_, i) => (i % 2 ? 200 : 404)),
        );
      }
    });

    it("a keep-alive client gets every answer on one connection", async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set<Socket>();
      try {
        for (let i = 0; i < 200; i++) {
          const status = await new Promise<number>((resolve, reject) => {
            get(`${api.url}/healthz`, { agent }, (res) => {
              sockets.add(res.socket);
              res.resume();
              res.once("end", () => resolve(res.statusCode ?? 0));
            }).once("error", reject);
          });
          assert.equal(status, 200);
        }
        assert.equal(sockets.size, 1, "one connection served them all");
      } finally {
        agent.destroy();
      }
    });
  });
});
