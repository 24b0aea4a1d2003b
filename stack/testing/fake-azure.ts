/**
 * A stand-in for the two Azure endpoints the program calls itself, listening on 127.0.0.1: a
 * registry's token exchange (POST /oauth2/exchange, as ACR answers it) and Resource Manager's
 * provider registrations (GET /subscriptions/{id}/providers/{namespace}). It checks every request
 * as Azure would (method, form fields, bearer token) and records them.
 */
import { once } from "node:events";
import * as http from "node:http";
import type { AddressInfo } from "node:net";

import type { AzureRest } from "../azure-rest.js";
import { PROVIDERS_API_VERSION } from "../provider-registrations.js";

export const ENTRA_ACCESS_TOKEN = "entra-access-token-for-management";
export const ACR_REFRESH_TOKEN = "acr-refresh-token";

/** A user kubeconfig as AKS returns it for an Entra-integrated cluster (format exec). */
export const AKS_USER_KUBECONFIG = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTg==
    server: https://aks-dns-abc.hcp.westeurope.azmk8s.io:443
  name: aks
contexts:
- context:
    cluster: aks
    user: clusterUser_rg_aks
  name: aks
current-context: aks
kind: Config
preferences: {}
users:
- name: clusterUser_rg_aks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - get-token
      - --environment
      - AzurePublicCloud
      - --server-id
      - 6dae42f8-4368-4678-94ff-3960e28e3630
      - --client-id
      - 80faf920-1908-4b52-b5ef-a8e7bedfc67a
      - --tenant-id
      - 72f988bf-86f1-41af-91ab-2d7cd011db47
      - --login
      - devicecode
      command: kubelogin
      env: null
      installHint: install kubelogin
      provideClusterInfo: false
`;

export interface FakeAzure {
  rest: AzureRest;
  /** Requests seen: method, path (without the query), the form or query fields. */
  requests: { method: string; path: string; fields: Record<string, string>; authorization?: string }[];
  /** Namespaces answered as NotRegistered. */
  unregistered: Set<string>;
  /** Namespaces whose registration this identity may not read (403). */
  forbidden: Set<string>;
  tenantId: string;
  close(): Promise<void>;
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

export async function startFakeAzure(tenantId: string): Promise<FakeAzure> {
  const requests: FakeAzure["requests"] = [];
  const unregistered = new Set<string>();
  const forbidden = new Set<string>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1");
      const body = Buffer.concat(chunks).toString("utf8");
      const form = req.headers["content-type"] === "application/x-www-form-urlencoded" ? Object.fromEntries(new URLSearchParams(body)) : {};
      const fields = { ...Object.fromEntries(url.searchParams), ...form };
      requests.push({ method: req.method ?? "", path: url.pathname, fields, authorization: req.headers.authorization });

      const exchange = /^\/acr\/([^/]+)\/oauth2\/exchange$/.exec(url.pathname);
      if (exchange) {
        if (req.method !== "POST") return send(res, 405, { errors: [{ code: "UNSUPPORTED", message: "method not allowed" }] });
        const service = decodeURIComponent(exchange[1] as string);
        if (form.grant_type !== "access_token" || form.service !== service || form.tenant !== tenantId) {
          return send(res, 400, { errors: [{ code: "BAD_REQUEST", message: "grant_type, service or tenant is wrong" }] });
        }
        if (form.access_token !== ENTRA_ACCESS_TOKEN) return send(res, 401, { errors: [{ code: "UNAUTHORIZED", message: "invalid token" }] });
        return send(res, 200, { refresh_token: ACR_REFRESH_TOKEN });
      }
      const provider = /^\/arm\/subscriptions\/([^/]+)\/providers\/([^/]+)$/.exec(url.pathname);
      if (provider) {
        if (req.method !== "GET" || url.searchParams.get("api-version") !== PROVIDERS_API_VERSION) return send(res, 400, { error: { code: "InvalidApiVersionParameter", message: "bad request" } });
        if (req.headers.authorization !== `Bearer ${ENTRA_ACCESS_TOKEN}`) return send(res, 401, { error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." } });
        const namespace = decodeURIComponent(provider[2] as string);
        if (forbidden.has(namespace)) return send(res, 403, { error: { code: "AuthorizationFailed", message: "The client does not have authorization" } });
        return send(res, 200, { id: `/subscriptions/${provider[1]}/providers/${namespace}`, namespace, registrationState: unregistered.has(namespace) ? "NotRegistered" : "Registered" });
      }
      send(res, 404, { error: { code: "NotFound", message: "no such endpoint" } });
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  server.unref(); // a test run never waits for it
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    rest: { resourceManager: `${base}/arm`, acrExchangeUrl: (loginServer) => `${base}/acr/${encodeURIComponent(loginServer)}/oauth2/exchange` },
    requests,
    unregistered,
    forbidden,
    tenantId,
    close: () => new Promise((done) => server.close(() => done())),
  };
}
