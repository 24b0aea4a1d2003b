import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

import Koa from "koa";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";

import { errorHandler } from "../framework/errors.js";
import { ENDLESS_CAP_BYTES, startJwksServer, type JwksServer } from "../testing/jwks-server.js";
import { entraAuthentication } from "./entra.js";
import { MAX_KEYS_DOCUMENT_BYTES } from "./signing-keys.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const AUDIENCE = "api://adf-webhook";
const KID = "test-key-1";

/**
 * Issue 25: with the cached keys stale and the key endpoint hanging, every authenticated request waited
 * 5 s (jose refetches in the request that finds them stale); a failed fetch set no cooldown (every
 * request fetched again); and a 400 MB key document was read whole (RSS 2.5 GB).
 */
describe("Entra ID signing keys: no request waits on, or floods, a key endpoint that misbehaves", function () {
  this.timeout(30_000);

  let signingKey: CryptoKey;
  let jwks: JwksServer;
  let server: Server | undefined;

  before(async () => {
    const pair = await generateKeyPair("RS256");
    signingKey = pair.privateKey;
    jwks = await startJwksServer([{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" }]);
  });
  beforeEach(() => {
    jwks.behaviour = "serve";
    jwks.status = 200;
  });
  afterEach(async () => {
    jwks.release();
    server?.closeAllConnections();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
  });
  after(() => jwks.close());

  const mint = () => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: `https://sts.windows.net/${TENANT}/`, aud: AUDIENCE, iat: now - 10, nbf: now - 10, exp: now + 3600, oid: "caller", tid: TENANT })
      .setProtectedHeader({ alg: "RS256", kid: KID, typ: "JWT" })
      .sign(signingKey);
  };

  /** An app guarded by entraAuthentication with keys from `jwks`, kept `keysMaxAgeMs`; its GET with a fresh token. */
  async function guarded(keysMaxAgeMs: number): Promise<() => Promise<{ status: number; code?: string }>> {
    const app = new Koa()
      .use(errorHandler())
      .use(entraAuthentication({ tenantId: TENANT, audiences: [AUDIENCE], jwksUri: jwks.url, keysMaxAgeMs }))
      .use((ctx) => {
        ctx.body = { caller: ctx.state.caller };
      });
    server = createServer(app.callback()).listen(0, "127.0.0.1");
    await once(server, "listening");
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return async () => {
      const res = await fetch(url, { headers: { authorization: `Bearer ${await mint()}` } });
      const body = (await res.json()) as { error?: { code: string } };
      return { status: res.status, code: body.error?.code };
    };
  }

  it("keys gone stale while the key endpoint hangs: requests are verified with the last keys at once, and the refresh goes on in the background", async () => {
    const get = await guarded(0);
    assert.equal((await get()).status, 200, "the first request fetches the keys");
    jwks.behaviour = "hang";
    const fetchesBefore = jwks.fetches;
    for (let i = 0; i < 5; i++) assert.equal((await get()).status, 200);
    // Let a fetch given up on (jose's 5 s timeout, if a request had waited for it) be seen by the server.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(jwks.abandoned, 0, "no request waited for the hanging refresh until it was given up");
    assert.equal(jwks.fetches, fetchesBefore + 1, "one refresh for them all");
    jwks.behaviour = "serve";
    jwks.release();
    assert.equal((await get()).status, 200);
  });

  it("a failed fetch is backed off: requests meanwhile make no fetch of their own", async () => {
    jwks.status = 503;
    const get = await guarded(3_600_000);
    const fetchesBefore = jwks.fetches;
    for (let i = 0; i < 10; i++) assert.deepEqual(await get(), { status: 503, code: "auth_unavailable" });
    // One fetch, perhaps a second if the machine took more than the first wait (1 s) for these 10.
    assert.ok(jwks.fetches - fetchesBefore <= 2, `${jwks.fetches - fetchesBefore} fetches for 10 requests`);
  });

  it("a failed refresh of stale keys is backed off too, and the last keys serve meanwhile", async () => {
    const get = await guarded(0);
    assert.equal((await get()).status, 200);
    jwks.status = 503;
    const fetchesBefore = jwks.fetches;
    for (let i = 0; i < 10; i++) assert.equal((await get()).status, 200);
    assert.ok(jwks.fetches - fetchesBefore <= 2, `${jwks.fetches - fetchesBefore} fetches for 10 requests`);
  });

  it(`a key document that never ends is read up to ${MAX_KEYS_DOCUMENT_BYTES / 1024} KiB, then given up: 503, not the process's memory`, async () => {
    jwks.behaviour = "endless";
    const get = await guarded(3_600_000);
    assert.deepEqual(await get(), { status: 503, code: "auth_unavailable" });
    // What the server could write before the client stopped reading: the bound and the sockets' buffers.
    assert.ok(jwks.endlessBytes < ENDLESS_CAP_BYTES, `the server wrote ${jwks.endlessBytes} bytes: the client read it all`);
  });
});
