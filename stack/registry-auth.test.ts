import * as assert from "node:assert/strict";

import { ACR_TOKEN_USERNAME, exchangeForAcrRefreshToken } from "./acr-token.js";
import { dockerImageDiff } from "./testing/docker-provider.js";
import { ACR_REFRESH_TOKEN } from "./testing/fake-azure.js";
import { run, UNKNOWN, type Run } from "./testing/harness.js";
import { tokenServer } from "./testing/token-server.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

const SECRET_TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOi.secret-entra-token";

const request = (url: string) => ({ url, service: "myacr.azurecr.io", tenantId: "tenant-1", accessToken: SECRET_TOKEN });

describe("registry authentication as the deploying identity", () => {
  describe("the token exchange (a real HTTP server on 127.0.0.1)", () => {
    it("posts the Entra token as ACR expects and returns the refresh token", async () => {
      const server = await tokenServer((_req, _body, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ refresh_token: "r1" })));
      try {
        assert.equal(await exchangeForAcrRefreshToken(request(server.url)), "r1");
        assert.equal(server.seen.length, 1);
        const [seen] = server.seen;
        assert.equal(seen?.method, "POST");
        assert.equal(seen?.contentType, "application/x-www-form-urlencoded");
        assert.deepEqual(Object.fromEntries(new URLSearchParams(seen?.body)), {
          grant_type: "access_token",
          service: "myacr.azurecr.io",
          tenant: "tenant-1",
          access_token: SECRET_TOKEN,
        });
        assert.equal(ACR_TOKEN_USERNAME, "00000000-0000-0000-0000-000000000000");
      } finally {
        await server.close();
      }
    });

    it("a refusal names the status, ACR's error and the role, never the token", async () => {
      const server = await tokenServer((_req, _body, res) =>
        res.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad token" }] })),
      );
      try {
        await assert.rejects(exchangeForAcrRefreshToken(request(server.url)), (error: Error) => {
          assert.match(error.message, /HTTP 401 \(UNAUTHORIZED: bad token\)/);
          assert.match(error.message, /AcrPush/);
          assert.ok(!error.message.includes(SECRET_TOKEN));
          return true;
        });
      } finally {
        await server.close();
      }
    });

    it("an answer without a refresh token, or not JSON, is an error", async () => {
      for (const body of ["{}", "<html>proxy</html>", JSON.stringify({ refresh_token: "" })]) {
        const server = await tokenServer((_req, _body, res) => res.writeHead(200).end(body));
        try {
          await assert.rejects(exchangeForAcrRefreshToken(request(server.url)), /returned no refresh_token/);
        } finally {
          await server.close();
        }
      }
    });

    it("an unreachable registry is an error that says so, without the token", async () => {
      const server = await tokenServer(() => undefined);
      await server.close(); // nothing listens on that port any more
      await assert.rejects(exchangeForAcrRefreshToken(request(server.url)), (error: Error) => {
        assert.match(error.message, /token exchange failed .*reachable/);
        assert.ok(!error.message.includes(SECRET_TOKEN));
        return true;
      });
    });
  });

  describe("in the program (Pulumi mocks, Azure's endpoints on 127.0.0.1)", () => {
    const EXISTING = { target: "existing", registryName: "myacr", registryResourceGroup: "rg-acr", clusterName: "aks", clusterResourceGroup: "rg-aks" };
    const image = (r: Run): any => r.one("docker:index/image:Image").inputs;

    it("an existing registry: the push authenticates as the identity, no admin credentials read", async () => {
      const r = await run(EXISTING);
      assert.deepEqual(image(r).registry, { server: "myacr.azurecr.io", username: ACR_TOKEN_USERNAME, password: ACR_REFRESH_TOKEN });
      assert.deepEqual(r.one("docker:index/image:Image").secretPaths, ["registry"]);
      assert.ok(!r.calls.some((c) => c.token === "azure-native:containerregistry:listRegistryCredentials"));
    });

    it("a new token on every run changes no input the docker provider rebuilds for", async () => {
      const first = image(await run(EXISTING));
      const second = { ...first, registry: { ...first.registry, password: "another-refresh-token" } };
      assert.deepEqual(dockerImageDiff(first, second), []);
      // ...whereas another registry would rebuild and push.
      assert.deepEqual(dockerImageDiff(first, { ...first, registry: { ...first.registry, server: "other.azurecr.io" } }), ["registry"]);
    });

    it("a first preview: the registry does not exist yet, so no exchange, and the password is unknown", async () => {
      const r = await run({}, {}, { preview: true });
      assert.equal(image(r).registry.password, UNKNOWN);
      assert.equal(image(r).registry.username, ACR_TOKEN_USERNAME);
      assert.ok(!r.azureRequests.some((q) => q.path.endsWith("/oauth2/exchange")));
    });

    it("a preview with the registry in place exchanges (as every run does) and keeps the token secret", async () => {
      const r = await run(EXISTING, {}, { preview: true });
      assert.equal(image(r).registry.password, ACR_REFRESH_TOKEN);
      assert.deepEqual(r.one("docker:index/image:Image").secretPaths, ["registry"]);
    });
  });
});
