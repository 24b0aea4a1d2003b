import * as assert from "node:assert/strict";

import { configOf } from "../testing/config.js";
import { resolve } from "../testing/harness.js";
import { apiProcess, terminationGracePeriodSeconds } from "./index.js";

describe("the API as a process (any runtime)", () => {
  it("derives terminationGracePeriodSeconds: preStop + drain + the API's wrap-up + margin", () => {
    // Wrap-up: ceil((pending callbacks + running + queued jobs) / 64 sockets) rounds of CALLBACK_TIMEOUT_MS, + 1 s.
    // Defaults: ceil(2100 / 64) = 33 rounds of 10 s, 331 s.
    assert.equal(terminationGracePeriodSeconds(configOf({}).api.settings), 5 + 20 + 331 + 5);
    const small = { MAX_CONCURRENT_JOBS: 64, MAX_QUEUED_JOBS: 0, MAX_PENDING_CALLBACKS: 64, CALLBACK_TIMEOUT_MS: 5_000 };
    assert.equal(terminationGracePeriodSeconds({ DRAIN_TIMEOUT_MS: 45_500, ...small }), 5 + 46 + 11 + 5);
    assert.equal(terminationGracePeriodSeconds(configOf({ drainTimeoutMs: "60000", maxQueuedJobs: "0", maxPendingCallbacks: "28", callbackTimeoutMs: "2000" }).api.settings), 5 + 60 + 2 * 2 + 1 + 5);
  });

  it("listens on the API's ports, and adds the Data Factory's identity to the configured callers", async () => {
    const entra = { authMode: "entra", entraTenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47", entraAudience: "api://x", entraAllowedCallers: "33333333-3333-3333-3333-333333333333" };
    const api = apiProcess(configOf(entra).api, ["44444444-4444-4444-4444-444444444444"]);
    assert.deepEqual(api.ports, { http: 5002, metrics: 9464 });
    const environment = await resolve(api.environment);
    assert.equal(environment?.ENTRA_ALLOWED_CALLERS, "33333333-3333-3333-3333-333333333333,44444444-4444-4444-4444-444444444444");
    assert.equal((await resolve(apiProcess(configOf({}).api).environment))?.ENTRA_ALLOWED_CALLERS, undefined);
  });
});
