import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import Koa from "koa";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";

import { ConfigError, loadConfig } from "../config.js";
import { errorHandler } from "../framework/errors.js";
import { entraAuthentication } from "./entra.js";
import { startApi, type RunningApi } from "../testing/api.js";
import { deadUrl } from "../testing/http.js";
import { startJwksServer, type JwksServer } from "../testing/jwks-server.js";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT = "0b5b2a9c-3c1d-4e8f-9a7b-6c5d4e3f2a1b";
const AUDIENCE = "api://adf-webhook";
const CLIENT_ID = "6e1c4b8a-2f3d-4c5e-8a9b-0c1d2e3f4a5b"; // the app registration's client id: a v2 token's aud
const FACTORY_OID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"; // the factory's managed identity object id
const STRANGER_OID = "9d2b7c1e-0a4f-4b6d-8e3c-5f7a1b2c3d4e";
const KID = "test-key-1";
const V1_ISSUER = `https://sts.windows.net/${TENANT}/`;
const V2_ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

describe("authentication, chosen by AUTH_MODE", function () {
  this.timeout(5_000);

  let signingKey: CryptoKey;
  let otherKey: CryptoKey;
  let publicKey: CryptoKey;
  let jwks: JwksServer;
  /** Every credential sent in these tests: none may show up in a log line. */
  const secretsSent: string[] = [];
  const apis: RunningApi[] = [];

  before(async () => {
    const pair = await generateKeyPair("RS256");
    signingKey = pair.privateKey;
    publicKey = pair.publicKey;
    otherKey = (await generateKeyPair("RS256")).privateKey;
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: "RS256", use: "sig" };
    jwks = await startJwksServer([publicJwk]);
  });
  after(async () => {
    await Promise.all(apis.map((api) => api.close()));
    await jwks.close();
  });

  async function start(env: Record<string, string>): Promise<RunningApi> {
    const api = await startApi(env);
    apis.push(api);
    return api;
  }
  const entraEnv = (extra: Record<string, string> = {}) => ({
    AUTH_MODE: "entra",
    ENTRA_TENANT_ID: TENANT,
    ENTRA_AUDIENCE: `${AUDIENCE}, ${CLIENT_ID}`,
    ENTRA_JWKS_URI: jwks.url,
    ...extra,
  });

  /** A token as Entra ID issues for a managed identity (v1 by default), with `overrides` applied. */
  async function mint(
    overrides: JWTPayload = {},
    { key = signingKey, kid = KID, alg = "RS256" }: { key?: CryptoKey | Uint8Array; kid?: string; alg?: string } = {},
  ): Promise<string> {
    const t = now();
    const claims: JWTPayload = {
      iss: V1_ISSUER,
      aud: AUDIENCE,
      iat: t - 10,
      nbf: t - 10,
      exp: t + 3600,
      oid: FACTORY_OID,
      sub: FACTORY_OID,
      tid: TENANT,
      appid: "b2d4f6a8-1c3e-4a5b-9d7f-0e2c4a6b8d0f",
      ver: "1.0",
      ...overrides,
    };
    const token = await new SignJWT(claims).setProtectedHeader({ alg, kid, typ: "JWT" }).sign(key);
    secretsSent.push(token);
    return token;
  }

  function call(api: RunningApi, authorization?: string, method: "GET" | "POST" = "GET", path = "/helloworld") {
    if (authorization) secretsSent.push(authorization);
    const headers: Record<string, string> = {};
    if (authorization !== undefined) headers.authorization = authorization;
    if (method === "POST") headers["content-type"] = "application/json";
    return fetch(`${api.url}${path}`, { method, headers, ...(method === "POST" ? { body: "{}" } : {}) });
  }

  async function assertRefused(res: Response, challenge: RegExp, message?: RegExp) {
    assert.equal(res.status, 401);
    assert.match(res.headers.get("www-authenticate") ?? "", challenge);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, "unauthorized");
    if (message) assert.match(body.error.message, message);
    return body.error.message;
  }

  const INVALID_TOKEN = /^Bearer realm="adf-webhook-api", error="invalid_token"$/;

  describe("entra", () => {
    let api: RunningApi;
    before(async () => {
      api = await start(entraEnv());
    });

    it("accepts a v1 token (sts.windows.net issuer, resource as audience), GET and POST", async () => {
      const token = await mint();
      const get = await call(api, `Bearer ${token}`);
      assert.equal(get.status, 200);
      assert.deepEqual(await get.json(), { message: "Hello World" });
      const post = await call(api, `Bearer ${token}`, "POST");
      assert.equal(post.status, 200);
      assert.deepEqual(await post.json(), { message: "Hello World" });
      // The caller is logged (at debug) by its object id.
      assert.ok(api.logs.some((line) => line.msg === "caller authenticated" && line.caller === FACTORY_OID));
    });

    it("accepts a v2 token (login.microsoftonline.com issuer, client id as audience); the scheme is case-insensitive", async () => {
      const token = await mint({ iss: V2_ISSUER, aud: CLIENT_ID, ver: "2.0", azp: "x", appid: undefined });
      const res = await call(api, `bearer ${token}`);
      assert.equal(res.status, 200);
    });

    it("tolerates a little clock skew on exp and nbf", async () => {
      const res = await call(api, `Bearer ${await mint({ exp: now() - 20, nbf: now() + 20 })}`);
      assert.equal(res.status, 200);
    });

    it("refuses a request without a token: 401, a Bearer challenge without an error code", async () => {
      for (const method of ["GET", "POST"] as const) {
        await assertRefused(await call(api, undefined, method), /^Bearer realm="adf-webhook-api"$/, /bearer token is required/);
      }
      // Another scheme counts as no bearer token.
      const basic = `Basic ${Buffer.from("adf:secret").toString("base64")}`;
      await assertRefused(await call(api, basic), /^Bearer realm="adf-webhook-api"$/);
      await assertRefused(await call(api, "Token abc.def.ghi"), /^Bearer realm="adf-webhook-api"$/);
    });

    it("refuses a malformed Authorization header", async () => {
      for (const header of ["Bearer", "Bearer ", "Bearer a b", "Bearer t?ken", "Bearer not-a-jwt", "Bearer a.b.c"]) {
        const res = await call(api, header);
        await assertRefused(res, INVALID_TOKEN, /malformed|not a valid bearer token/);
      }
    });

    const refusals: Array<[string, () => Promise<string>, RegExp]> = [
      ["expired", () => mint({ exp: now() - 120 }), /expired/],
      ["not yet valid", () => mint({ nbf: now() + 300 }), /not valid yet/],
      ["wrong audience", () => mint({ aud: "api://something-else" }), /audience/],
      ["wrong issuer", () => mint({ iss: "https://evil.example/" }), /issued/],
      ["another tenant (v1 issuer)", () => mint({ iss: `https://sts.windows.net/${OTHER_TENANT}/`, tid: OTHER_TENANT }), /tenant/],
      ["another tenant (v2 issuer)", () => mint({ iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0` }), /tenant/],
      ["this tenant's issuer but another tid", () => mint({ tid: OTHER_TENANT }), /another tenant/],
      ["no expiry", () => mint({ exp: undefined }), /expiry/],
      ["bad signature (another key, same kid)", () => mint({}, { key: otherKey }), /signature/],
      ["an unknown key id", () => mint({}, { kid: "not-a-key-of-the-tenant" }), /known key/],
      ["HS256", () => mint({}, { key: new TextEncoder().encode("a-shared-secret-of-at-least-32-bytes!"), alg: "HS256" }), /algorithm/],
      [
        "alg: none (unsigned)",
        async () => {
          const t = now();
          const token = `${b64url({ alg: "none", typ: "JWT" })}.${b64url({ iss: V1_ISSUER, aud: AUDIENCE, oid: FACTORY_OID, tid: TENANT, nbf: t, exp: t + 3600 })}.`;
          secretsSent.push(token);
          return token;
        },
        /algorithm/,
      ],
    ];
    for (const [name, token, message] of refusals) {
      it(`refuses a token: ${name}`, async () => {
        const value = await token();
        const res = await call(api, `Bearer ${value}`);
        const said = await assertRefused(res, INVALID_TOKEN, message);
        assert.ok(!said.includes(value.split(".")[1]!), "the message echoes no part of the token");
      });
    }

    it("guards POST as well as GET, before the body is read", async () => {
      const res = await fetch(`${api.url}/helloworld`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${await mint({ exp: now() - 120 })}` },
        body: '{"not": json',
      });
      await assertRefused(res, INVALID_TOKEN, /expired/);
    });

    it("fetches the key set once and then uses its cache", async () => {
      const before = jwks.fetches;
      assert.ok(before >= 1);
      for (let i = 0; i < 5; i++) assert.equal((await call(api, `Bearer ${await mint()}`)).status, 200);
      assert.equal(jwks.fetches, before);
    });
  });

  describe("entra with ENTRA_ALLOWED_CALLERS", () => {
    let api: RunningApi;
    before(async () => {
      api = await start(entraEnv({ ENTRA_ALLOWED_CALLERS: `${STRANGER_OID.slice(0, 8)}-0000-0000-0000-000000000000, ${FACTORY_OID.toUpperCase()}` }));
    });

    it("accepts a listed caller (object ids compared case-insensitively) and records it as ctx.state.caller", async () => {
      const res = await call(api, `Bearer ${await mint()}`, "POST");
      assert.equal(res.status, 200);
      assert.ok(api.logs.some((line) => line.msg === "caller authenticated" && line.caller === FACTORY_OID));
    });

    it("refuses a valid token of an unknown caller, and one without oid", async () => {
      await assertRefused(await call(api, `Bearer ${await mint({ oid: STRANGER_OID, sub: STRANGER_OID })}`), INVALID_TOKEN, /caller is not allowed/);
      await assertRefused(await call(api, `Bearer ${await mint({ oid: undefined })}`), INVALID_TOKEN, /caller is not allowed/);
    });
  });

  describe("entra when the key set cannot be fetched", () => {
    it("answers 503 auth_unavailable when the JWKS server is down", async () => {
      const api = await start(entraEnv({ ENTRA_JWKS_URI: await deadUrl("/keys") }));
      const res = await call(api, `Bearer ${await mint()}`);
      assert.equal(res.status, 503);
      assert.deepEqual(((await res.json()) as { error: { code: string } }).error.code, "auth_unavailable");
      assert.ok(api.logs.some((line) => line.level === "warn" && /signing keys could not be fetched/.test(String(line.msg))));
    });

    it("answers 503 auth_unavailable when the JWKS server fails", async () => {
      const failing = await startJwksServer([], 500);
      try {
        const api = await start(entraEnv({ ENTRA_JWKS_URI: failing.url }));
        const res = await call(api, `Bearer ${await mint()}`, "POST");
        assert.equal(res.status, 503);
        assert.equal(((await res.json()) as { error: { code: string } }).error.code, "auth_unavailable");
      } finally {
        await failing.close();
      }
    });
  });

  describe("entra middleware on its own", () => {
    it("sets ctx.state.caller, and keeps the keys it has while a refresh of the key set fails", async () => {
      const flaky = await startJwksServer([{ ...(await exportJWK(publicKey)), kid: KID, alg: "RS256" }]);
      const app = new Koa()
        .use(errorHandler())
        .use(entraAuthentication({ tenantId: TENANT.toUpperCase(), audiences: [AUDIENCE], jwksUri: flaky.url, keysMaxAgeMs: 0 }))
        .use((ctx) => {
          ctx.body = { caller: ctx.state.caller };
        });
      const server = createServer(app.callback());
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const get = async (token: string) => fetch(url, { headers: { authorization: `Bearer ${token}` } });
      try {
        const first = await get(await mint());
        assert.equal(first.status, 200);
        assert.deepEqual(await first.json(), { caller: FACTORY_OID });
        flaky.status = 503;
        const fetchesBefore = flaky.fetches;
        const second = await get(await mint());
        assert.equal(second.status, 200, "the keys fetched before still verify");
        assert.ok(flaky.fetches > fetchesBefore, "a refresh was attempted");
        assert.equal((await get(await mint({}, { key: otherKey }))).status, 401);
      } finally {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await flaky.close();
      }
    });
  });

  describe("entra in each Azure cloud (AZURE_CLOUD)", () => {
    // Issuers as Entra ID writes them in each cloud (Microsoft Learn, national clouds; Microsoft Q&A 1190472).
    const clouds = {
      public: { v1: `https://sts.windows.net/${TENANT}/`, v2: [`https://login.microsoftonline.com/${TENANT}/v2.0`] },
      usgovernment: { v1: `https://sts.windows.net/${TENANT}/`, v2: [`https://login.microsoftonline.us/${TENANT}/v2.0`] },
      china: {
        v1: `https://sts.chinacloudapi.cn/${TENANT}/`,
        v2: [`https://login.chinacloudapi.cn/${TENANT}/v2.0`, `https://login.partner.microsoftonline.cn/${TENANT}/v2.0`],
      },
    } as const;
    const allIssuers = [...new Set(Object.values(clouds).flatMap((cloud) => [cloud.v1, ...cloud.v2]))];

    for (const [name, issuers] of Object.entries(clouds)) {
      it(`${name}: accepts real tokens of its v1 and v2 issuers, refuses every other cloud's`, async () => {
        const api = await start(entraEnv({ AZURE_CLOUD: name }));
        const own = [issuers.v1, ...issuers.v2];
        for (const iss of own) {
          const v2 = iss.endsWith("/v2.0");
          const res = await call(api, `Bearer ${await mint({ iss, ...(v2 ? { aud: CLIENT_ID, ver: "2.0" } : {}) })}`);
          assert.equal(res.status, 200, iss);
        }
        for (const iss of allIssuers.filter((other) => !own.includes(other as never))) {
          await assertRefused(await call(api, `Bearer ${await mint({ iss })}`), INVALID_TOKEN, /not issued by this API's Entra ID tenant/);
        }
      });
    }

    it("fetches the signing keys from the cloud's own Entra ID by default", async () => {
      const { defaultJwksUri } = await import("../clouds.js");
      assert.equal(defaultJwksUri("public", TENANT), `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`);
      assert.equal(defaultJwksUri("usgovernment", TENANT), `https://login.microsoftonline.us/${TENANT}/discovery/v2.0/keys`);
      assert.equal(defaultJwksUri("china", TENANT), `https://login.chinacloudapi.cn/${TENANT}/discovery/v2.0/keys`);
    });
  });

  describe("entra with ENTRA_REQUIRED_ROLES", () => {
    let api: RunningApi;
    before(async () => {
      api = await start(entraEnv({ ENTRA_REQUIRED_ROLES: "Jobs.Run, Jobs.Read" }));
    });

    it("accepts a caller whose token carries every required app role (others may come too)", async () => {
      const res = await call(api, `Bearer ${await mint({ roles: ["Jobs.Read", "Other", "Jobs.Run"] })}`, "POST");
      assert.equal(res.status, 200);
    });

    it("refuses a token without roles, with only some of them, or with roles in the wrong claim or case", async () => {
      for (const claims of [{}, { roles: ["Jobs.Run"] }, { roles: "Jobs.Run Jobs.Read" }, { scp: "Jobs.Run Jobs.Read" }, { roles: ["jobs.run", "jobs.read"] }]) {
        await assertRefused(await call(api, `Bearer ${await mint(claims)}`), INVALID_TOKEN, /lacks an app role/);
      }
    });
  });

  describe("basic", () => {
    const USER = "adf";
    const PASSWORD = "s3cret:with-colon";
    let api: RunningApi;
    before(async () => {
      api = await start({ AUTH_MODE: "basic", BASIC_AUTH_USERNAME: USER, BASIC_AUTH_PASSWORD: PASSWORD });
    });
    const basic = (user: string, password: string, encoding: BufferEncoding = "utf8") =>
      `Basic ${Buffer.from(`${user}:${password}`, encoding).toString("base64")}`;
    const CHALLENGE = /^Basic realm="adf-webhook-api", charset="UTF-8"$/;

    it("accepts the right credentials, GET and POST, and records the caller", async () => {
      for (const method of ["GET", "POST"] as const) {
        const res = await call(api, basic(USER, PASSWORD), method);
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { message: "Hello World" });
      }
      assert.ok(api.logs.some((line) => line.msg === "caller authenticated" && line.caller === USER));
    });

    it("refuses a wrong password, a wrong user, and a password prefix", async () => {
      for (const header of [basic(USER, "wrong"), basic("someone", PASSWORD), basic(USER, PASSWORD.slice(0, -1)), basic(USER, `${PASSWORD}x`), basic("", "")]) {
        await assertRefused(await call(api, header), CHALLENGE, /^Invalid username or password\.$/);
      }
    });

    it("refuses no credentials and malformed headers, GET and POST", async () => {
      for (const method of ["GET", "POST"] as const) await assertRefused(await call(api, undefined, method), CHALLENGE);
      for (const header of ["Basic", "Basic !!!", `Basic ${Buffer.from("no-colon").toString("base64")}`, "Bearer abc.def.ghi", `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString("base64")} extra`]) {
        await assertRefused(await call(api, header), CHALLENGE);
      }
    });

    it("handles non-ASCII credentials as UTF-8", async () => {
      const user = "jürgen";
      const password = "пароль-🔑";
      const unicode = await start({ AUTH_MODE: "basic", BASIC_AUTH_USERNAME: user, BASIC_AUTH_PASSWORD: password });
      secretsSent.push(password);
      assert.equal((await call(unicode, basic(user, password))).status, 200);
      // The same user name in Latin-1 is not the configured one (and not valid UTF-8).
      await assertRefused(await call(unicode, basic(user, password, "latin1")), CHALLENGE);
      await assertRefused(await call(unicode, basic("jurgen", password)), CHALLENGE);
    });
  });

  describe("in every mode", () => {
    it("leaves /healthz, /readyz and /metrics (on the metrics port) open", async () => {
      const modes = [
        await start({}),
        await start({ AUTH_MODE: "basic", BASIC_AUTH_USERNAME: "u", BASIC_AUTH_PASSWORD: "p" }),
        await start(entraEnv()),
      ];
      for (const api of modes) {
        for (const url of [`${api.url}/healthz`, `${api.url}/readyz`, `${api.metricsUrl}/metrics`]) {
          const res = await fetch(url);
          assert.equal(res.status, 200, `${url} is open`);
          await res.arrayBuffer();
        }
      }
      // AUTH_MODE=none: the job routes are open too.
      assert.equal((await call(modes[0]!, undefined, "POST")).status, 200);
    });

    it("never logs a token, a password or an Authorization header", () => {
      const secrets = [...secretsSent, "s3cret:with-colon", "пароль-🔑"];
      assert.ok(secretsSent.length > 20);
      for (const api of apis) {
        for (const line of api.logs) {
          const text = JSON.stringify(line);
          assert.ok(!/"authorization"\s*:|Bearer ey/i.test(text), `no Authorization header in ${text}`);
          for (const secret of secrets) {
            const part = secret.replace(/^(Bearer|Basic) /i, "");
            if (part.length >= 8) assert.ok(!text.includes(part), `no credential in ${text}`);
          }
        }
      }
      assert.ok(apis.some((api) => api.logs.some((line) => line.msg === "authentication refused" && typeof line.reason === "string")));
    });
  });

  describe("configuration", () => {
    it("AUTH_MODE=basic needs a username and a password, and never echoes the password", () => {
      assert.throws(() => loadConfig({ AUTH_MODE: "basic", BASIC_AUTH_USERNAME: "adf" }), (error: Error) => error instanceof ConfigError && /BASIC_AUTH_PASSWORD is required/.test(error.message));
      assert.throws(
        () => loadConfig({ AUTH_MODE: "basic", BASIC_AUTH_PASSWORD: "hunter2-secret" }),
        (error: Error) => /BASIC_AUTH_USERNAME is required/.test(error.message) && !error.message.includes("hunter2-secret"),
      );
    });

    it("AUTH_MODE=entra needs a tenant id (a GUID) and an audience", () => {
      assert.throws(() => loadConfig({ AUTH_MODE: "entra", ENTRA_AUDIENCE: AUDIENCE }), /ENTRA_TENANT_ID is required/);
      assert.throws(() => loadConfig({ AUTH_MODE: "entra", ENTRA_TENANT_ID: TENANT }), /ENTRA_AUDIENCE is required/);
      assert.throws(() => loadConfig({ AUTH_MODE: "entra", ENTRA_TENANT_ID: "contoso.com", ENTRA_AUDIENCE: AUDIENCE }), /ENTRA_TENANT_ID must be a tenant id/);
      assert.throws(() => loadConfig({ AUTH_MODE: "sso" }), /AUTH_MODE/);
      const config = loadConfig({ AUTH_MODE: "entra", ENTRA_TENANT_ID: TENANT, ENTRA_AUDIENCE: `${AUDIENCE}, ${CLIENT_ID}` });
      assert.deepEqual(config.ENTRA_AUDIENCE, [AUDIENCE, CLIENT_ID]);
    });
  });
});
