import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";

describe("the original endpoints", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi();
  });
  after(() => api.close());

  for (const [path, expected] of [
    ["/helloworld", { message: "Hello World" }],
    ["/test", { test: "test" }],
  ] as const) {
    it(`GET ${path} answers ${JSON.stringify(expected)} as JSON`, async () => {
      const res = await fetch(`${api.url}${path}`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
      assert.equal(await res.text(), JSON.stringify(expected));
    });
  }
});
