import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";

export interface TokenIssuer {
  /** The tenant's key set on 127.0.0.1, for ENTRA_JWKS_URI. */
  jwksUri: string;
  tenantId: string;
  /** An `aud` the issuer mints for (the resource a factory asks a token for). */
  audience: string;
  /** The caller's object id in the tokens (the factory's managed identity). */
  callerId: string;
  /** A real RS256 token as Entra ID issues for a managed identity (v1), with `overrides` applied. */
  mint(overrides?: JWTPayload): Promise<string>;
  close(): Promise<void>;
}

/** A stand-in for an Entra ID tenant: a fresh signing key, its JWKS served on 127.0.0.1, and real signed tokens. */
export async function startTokenIssuer(
  tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47",
  audience = "api://adf-webhook",
  callerId = "3fa85f64-5717-4562-b3fc-2c963f66afa6",
): Promise<TokenIssuer> {
  const kid = "test-issuer-key";
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const keys = [{ ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" }];
  const server = createServer((req, res) => {
    if (req.url !== "/keys") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    jwksUri: `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`,
    tenantId,
    audience,
    callerId,
    async mint(overrides = {}) {
      const now = Math.floor(Date.now() / 1000);
      const claims: JWTPayload = {
        iss: `https://sts.windows.net/${tenantId}/`,
        aud: audience,
        iat: now - 10,
        nbf: now - 10,
        exp: now + 3600,
        oid: callerId,
        sub: callerId,
        tid: tenantId,
        ver: "1.0",
        ...overrides,
      };
      return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid, typ: "JWT" }).sign(privateKey);
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
