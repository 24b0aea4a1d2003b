import assert from "node:assert/strict";
import { request } from "node:http";

import { startApi, type RunningApi } from "../testing/api.js";
import { startReceiver } from "../testing/receiver.js";

/** A POST exactly as given: fetch would add a Content-Type of its own to a string body. */
function rawPost(url: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", headers: { "content-length": String(Buffer.byteLength(body)), ...headers } });
    req.once("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.once("error", reject);
    req.end(body);
  });
}

describe("request bodies without a Content-Type (ADF's docs require one; users forget it)", () => {
  let api: RunningApi;
  before(async () => {
    api = await startApi({ CALLBACK_ALLOW_INSECURE: "true" });
  });
  after(() => api.close());

  it("a JSON body without Content-Type is read as JSON (Web activity)", async () => {
    const res = await rawPost(`${api.url}/simulate`, JSON.stringify({ output: { rows: 3 } }));
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { rows: 3 });
  });

  it("a JSON body without Content-Type is read as JSON (Webhook activity): 202, then the callback", async () => {
    const receiver = await startReceiver();
    try {
      const res = await rawPost(`${api.url}/simulate`, JSON.stringify({ output: { rows: 4 }, callBackUri: `${receiver.base}/cb` }));
      assert.equal(res.status, 202);
      const [callback] = await receiver.waitFor(1);
      assert.deepEqual(callback!.body, { Output: { rows: 4 }, StatusCode: "200" });
    } finally {
      await receiver.close();
    }
  });

  it("a body without Content-Type that is not JSON is still 400 malformed_json", async () => {
    for (const body of ["rows=3", "{not json", "<xml/>"]) {
      const res = await rawPost(`${api.url}/simulate`, body);
      assert.equal(res.status, 400, body);
      assert.equal((res.body.error as { code: string }).code, "malformed_json", body);
    }
  });

  it("a body that says it is another type is still 415", async () => {
    const res = await rawPost(`${api.url}/helloworld`, "{}", { "content-type": "text/plain" });
    assert.equal(res.status, 415);
    assert.equal((res.body.error as { code: string }).code, "unsupported_media_type");
  });
});
