import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";

import { maskToken, startReceiver, type Receiver } from "./receiver.js";
import { callBack as post } from "./testing/endpoints.js";

describe("ADF emulator: callback receiver", () => {
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await receiver?.close();
    receiver = undefined;
  });

  it("listens on 127.0.0.1 at a secret path, masked for people", async () => {
    receiver = await startReceiver(performance.now(), 1000, () => undefined);
    const uri = new URL(receiver.uri);
    assert.equal(uri.hostname, "127.0.0.1");
    const token = uri.pathname.split("/").pop() ?? "";
    assert.ok(token.length >= 32);
    assert.equal(receiver.maskedUri, receiver.uri.replace(token, maskToken(token)));
    assert.ok(!receiver.maskedUri.includes(token));
  });

  it("binds the address and port given, and names the advertised host and port in its URI", async () => {
    receiver = await startReceiver(performance.now(), 1000, () => undefined, { listenHost: "127.0.0.1", listenPort: 0, host: "10.244.0.1", port: 9000 });
    assert.match(receiver.uri, /^http:\/\/10\.244\.0\.1:9000\/callback\//);
    await receiver.close();
    receiver = await startReceiver(performance.now(), 1000, () => undefined, { listenHost: "127.0.0.1", host: "fd00::1", port: 9000 });
    assert.match(receiver.uri, /^http:\/\/\[fd00::1\]:9000\/callback\//);
  });

  it("answers 404 elsewhere, 405 to other methods, and keeps only the first callback", async () => {
    const progress: string[] = [];
    receiver = await startReceiver(performance.now(), 1000, (line) => progress.push(line));
    assert.equal(await post(new URL("/callback/guess", receiver.uri).href, "{}"), 404);
    const get = await fetch(receiver.uri);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    await get.arrayBuffer();
    assert.equal(await post(receiver.uri, '{"n":1}'), 200);
    assert.equal(await post(receiver.uri, '{"n":2}'), 200);
    assert.deepEqual((await receiver.first).body, { n: 1 });
    assert.match(progress.join("\n"), /only the first one counts/);
  });

  it("answers 413 to a body over its limit", async () => {
    receiver = await startReceiver(performance.now(), 10, () => undefined);
    assert.equal(await post(receiver.uri, JSON.stringify({ blob: "x".repeat(100) })), 413);
    assert.match((await receiver.first).malformed ?? "", /larger than 10 bytes/);
  });
});
