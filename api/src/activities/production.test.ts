import assert from "node:assert/strict";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";

import { generate } from "selfsigned";

import { AZURE_CLOUDS, AZURE_CLOUD_NAMES, type AzureCloudName } from "../clouds.js";
import { startApi, type RunningApi } from "../testing/api.js";
import { postJson } from "../testing/receiver.js";
import type { CallbackTransport } from "../callbacks/sender.js";
import type { HostLookup } from "../callbacks/callback-uri.js";

/**
 * Production mode end to end: the default settings (no CALLBACK_ALLOW_INSECURE), a callBackUri under a
 * real Data Factory or Synapse host of each Azure cloud, called back over HTTPS with the certificate
 * verified. Only what cannot exist here is stood in for, in-process: DNS (the test's names resolve to
 * 20.50.1.1, a public address in Azure's space that passes the address checks; documentation addresses no
 * longer do), where that checked address is dialled (127.0.0.1, this test's receiver: it is never
 * dialled itself) and the CA that is trusted (one made now).
 */
const CHECKED_ADDRESS = "20.50.1.1";

/** Host names as Data Factory and Synapse use them in each cloud (a region's data plane, a workspace). */
const HOSTS: Record<AzureCloudName, string[]> = {
  public: ["dpeastus.svc.datafactory.azure.com", "adf-test-ws.dev.azuresynapse.net"],
  usgovernment: ["dpusgovvirginia.svc.datafactory.azure.us", "adf-test-ws.dev.azuresynapse.usgovcloudapi.net"],
  china: ["dpchinaeast2.svc.datafactory.azure.cn", "adf-test-ws.dev.azuresynapse.azure.cn"],
};
const OUTSIDER = "callback.evil-factory.example";
const ALL_NAMES = [...Object.values(HOSTS).flat(), OUTSIDER];

interface Delivered {
  servername: string | false | null;
  host: string | undefined;
  path: string;
  body: Record<string, unknown>;
}

describe("production mode: strict settings, real ADF hosts of every cloud, called back over HTTPS", function () {
  this.timeout(20_000);

  let caCert: string;
  let receiver: Server;
  let port: number;
  const delivered: Delivered[] = [];
  const lookups: string[] = [];
  const apis: RunningApi[] = [];

  /** The test's DNS: its names resolve, to an address the checks allow; nothing else does. */
  const lookup: HostLookup = (hostname, _options, callback) => {
    lookups.push(hostname);
    if (ALL_NAMES.includes(hostname)) return void setImmediate(() => callback(null, [{ address: CHECKED_ADDRESS, family: 4 }]));
    const error: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    setImmediate(() => callback(error, []));
  };
  const dial = (address: string) => (address === CHECKED_ADDRESS ? "127.0.0.1" : address);

  before(async () => {
    const ca = await generate([{ name: "commonName", value: "adf-webhook test CA" }], {
      keyType: "ec",
      extensions: [
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
      ],
    });
    caCert = ca.cert;
    const leaf = await generate([{ name: "commonName", value: ALL_NAMES[0]! }], {
      keyType: "ec",
      algorithm: "sha256",
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
        { name: "extKeyUsage", serverAuth: true },
        { name: "subjectAltName", altNames: ALL_NAMES.map((value) => ({ type: 2 as const, value })) },
      ],
    });
    receiver = createServer({ key: leaf.private, cert: leaf.cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        delivered.push({
          servername: (req.socket as TLSSocket).servername,
          host: req.headers.host,
          path: req.url ?? "",
          body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>,
        });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    receiver.listen(0, "127.0.0.1");
    await once(receiver, "listening");
    port = (receiver.address() as AddressInfo).port;
  });

  after(async () => {
    await Promise.all(apis.map((api) => api.close()));
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
  });

  async function start(env: Record<string, string>, transport: CallbackTransport = { ca: caCert, dial }): Promise<RunningApi> {
    const api = await startApi(env, { lookup, callbackTransport: transport });
    apis.push(api);
    return api;
  }

  async function deliveredTo(path: string): Promise<Delivered> {
    for (;;) {
      const found = delivered.find((d) => d.path === path);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  for (const cloud of AZURE_CLOUD_NAMES) {
    it(`AZURE_CLOUD=${cloud}: a callBackUri under each of its Data Factory and Synapse hosts is accepted and called back`, async () => {
      const api = await start(cloud === "public" ? {} : { AZURE_CLOUD: cloud });
      for (const host of HOSTS[cloud]) {
        // ADF's callBackUri is on 443; this receiver's port stands in for it.
        const path = `/dataplane/workflow/callback/${cloud}-${host.split(".")[0]}?callbackUrl=x&sig=not-a-real-signature`;
        const answer = await postJson(`${api.url}/simulate`, { callBackUri: `https://${host}:${port}${path}`, output: { cloud, host } });
        assert.equal(answer.status, 202, `${host}: ${JSON.stringify(answer.body)}`);
        const callback = await deliveredTo(path);
        assert.deepEqual(callback.body, { Output: { cloud, host }, StatusCode: "200" });
        assert.equal(callback.servername, host, "TLS was spoken to the factory's name (SNI), and its certificate verified");
        assert.equal(callback.host, `${host}:${port}`);
      }
      assert.ok(HOSTS[cloud].every((host) => lookups.includes(host)), "the names went through the resolver");
    });

    it(`AZURE_CLOUD=${cloud}: the other clouds' hosts and any other name are refused, though they resolve alike`, async () => {
      const api = await start(cloud === "public" ? {} : { AZURE_CLOUD: cloud });
      const others = AZURE_CLOUD_NAMES.filter((other) => other !== cloud).flatMap((other) => HOSTS[other]);
      for (const host of [...others, OUTSIDER]) {
        const answer = await postJson(`${api.url}/simulate`, { callBackUri: `https://${host}:${port}/cb` });
        assert.equal(answer.status, 400, host);
        assert.equal(answer.body?.error?.code, "invalid_callback_uri");
        assert.match(answer.body?.error?.message ?? "", new RegExp(`not under CALLBACK_ALLOWED_HOSTS \\(${AZURE_CLOUDS[cloud].callbackHosts.join(", ").replaceAll(".", "\\.")}\\)`));
      }
    });
  }

  it("trusts no certificate the system (or the given CA) does not: without the test's CA, nothing is delivered", async () => {
    const api = await start({ CALLBACK_MAX_ATTEMPTS: "1" }, { dial });
    const path = "/dataplane/workflow/callback/untrusted";
    const answer = await postJson(`${api.url}/simulate`, { callBackUri: `https://${HOSTS.public[0]}:${port}${path}` });
    assert.equal(answer.status, 202);
    const givenUp = await api.waitForLog((line) => line.msg === "callback given up: ADF will report the activity as timed out");
    assert.match(String(givenUp.why), /CERT|SIGNATURE|ISSUER/);
    assert.ok(!delivered.some((d) => d.path === path));
  });

  it("the stand-ins are reachable in-process only: the entry point passes neither, and no setting names them", async () => {
    const entry = readFileSync(new URL("../listen.ts", import.meta.url), "utf8");
    assert.match(entry, /createApp\(\{ config, logger, drain, metrics \}\)/);
    const { loadConfig } = await import("../config.js");
    const keys = Object.keys(loadConfig({}));
    assert.deepEqual(keys.filter((key) => /(^|_)(CA|TLS|CERTS?|DIAL|LOOKUP|RESOLVER|DNS)(_|$)/.test(key)), []);
  });

  it("still refuses an address the checks block, whatever the dialling: a name resolving to 127.0.0.1 is refused", async () => {
    const loopbackLookup: HostLookup = (_hostname, _options, callback) => setImmediate(() => callback(null, [{ address: "127.0.0.1", family: 4 }]));
    const api = await startApi({}, { lookup: loopbackLookup, callbackTransport: { ca: caCert, dial } });
    apis.push(api);
    const answer = await postJson(`${api.url}/simulate`, { callBackUri: `https://${HOSTS.public[0]}:${port}/cb` });
    assert.equal(answer.status, 400);
    assert.match(answer.body?.error?.message ?? "", /resolves to a loopback address/);
  });
});
