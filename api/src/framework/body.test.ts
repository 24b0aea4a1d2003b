import assert from "node:assert/strict";

import { startApi, type RunningApi } from "../testing/api.js";
import { postAsGiven } from "../testing/http.js";
import { startReceiver } from "../testing/receiver.js";

describe("request bodies without a Content-Type (ADF's docs require one; users forget it)", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ CALLBACK_ALLOW_INSECURE: "true" });
  });
  after(() => api.close());

  it("a JSON body without Content-Type is read as JSON (Web activity)", async () => {
    const res = await postAsGiven(`${api.url}/simulate`, JSON.stringify({ output: { rows: 3 } }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { rows: 3 });
  });

  it("a JSON body without Content-Type is read as JSON (Webhook activity): 202, then the callback", async () => {
    const receiver = await startReceiver();
    try {
      const res = await postAsGiven(`${api.url}/simulate`, JSON.stringify({ output: { rows: 4 }, callBackUri: `${receiver.base}/cb` }));
      assert.equal(res.status, 202);
      const [callback] = await receiver.waitFor(1);
      assert.deepEqual(callback!.body, { Output: { rows: 4 }, StatusCode: "200" });
    } finally {
      await receiver.close();
    }
  });

  it("a body without Content-Type that is not JSON is still 400 malformed_json", async () => {
    for (const body of ["rows=3", "{not json", "<xml/>"]) {
      const res = await postAsGiven(`${api.url}/simulate`, body);
      assert.equal(res.status, 400, body);
      assert.equal((res.body.error as { code: string }).code, "malformed_json", body);
    }
  });

  it("a body that says it is another type is still 415", async () => {
    const res = await postAsGiven(`${api.url}/helloworld`, "{}", { "content-type": "text/plain" });
    assert.equal(res.status, 415);
    assert.equal((res.body.error as { code: string }).code, "unsupported_media_type");
  });
});
