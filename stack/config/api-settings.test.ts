import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import fc from "fast-check";

import { loadConfig as loadApiConfig } from "../../api/src/config.js";
import { SETTING_NAMES } from "../../api/src/settings.js";
import { refusedNaming } from "../testing/config.js";
import { ADF_PRINCIPAL_ID, reader, run } from "../testing/harness.js";
import { API_SETTING_KEYS } from "./api-settings.js";
import { ConfigError, loadConfig } from "./index.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

/**
 * The stack and the API are one system with one schema: the stack checks its keys with the API's own
 * (api/src/settings.ts), and what it writes into the pods' environment is what the API then reads.
 */
describe("the API's settings as stack keys (the API's schema)", function () {
  this.timeout(20_000);

  it("the stack's schemas and the API's are built with one zod: the same version in both lockfiles", () => {
    const ROOT = path.resolve(import.meta.dirname, "..", "..");
    const zodOf = (lockfile: string) => (JSON.parse(fs.readFileSync(path.join(ROOT, lockfile), "utf8")) as { packages: Record<string, { version?: string }> }).packages["node_modules/zod"]?.version;
    assert.ok(zodOf("api/package-lock.json"), "the API depends on zod");
    assert.equal(zodOf("package-lock.json"), zodOf("api/package-lock.json"));
  });

  it("maps each key to a variable the API reads, each variable to one key", () => {
    const names = Object.values(API_SETTING_KEYS);
    for (const name of names) assert.ok(SETTING_NAMES.includes(name), `${name} is read by the API`);
    assert.equal(new Set(names).size, names.length);
  });

  it("reports the API's problems under the keys the user typed, naming other settings by their keys too", () => {
    const message = refusedNaming({ drainTimeoutMs: "3600001", logLevel: "loud", bodyLimit: "64mb", authMode: "basic" }, {}, "drainTimeoutMs", "logLevel", "bodyLimit");
    assert.match(message, /- drainTimeoutMs: must be a whole number between 0 and 3600000 \(got "3600001"\)/);
    assert.match(message, /- logLevel: must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/);
    assert.match(message, /- bodyLimit: must not exceed maxQueuedBytes \(33554432 bytes\) \(got "64mb"\)/);
    assert.match(message, /- basicAuthUsername: is required when authMode is basic\n/);
    assert.match(message, /- basicAuthPassword: is required when authMode is basic \(pulumi config set --secret basicAuthPassword <value>\)/);
    assert.doesNotMatch(message, /[A-Z]{2,}_[A-Z]/, "no environment variable names");
  });

  it("never echoes a secret", () => {
    const message = refusedNaming({ authMode: "basic" }, { basicAuthPassword: "hunter2" }, "basicAuthUsername");
    assert.doesNotMatch(message, /hunter2|basicAuthPassword/);
  });

  const SHAPES: [string, Record<string, string>, Record<string, string>][] = [
    ["the defaults", {}, {}],
    [
      "every API setting tuned, at the edges the API allows",
      {
        logLevel: "debug",
        bodyLimit: "1.5mb",
        drainTimeoutMs: "3600000",
        jobTimeoutMs: "604800000",
        maxConcurrentJobs: "100000",
        maxQueuedJobs: "1000000",
        maxPendingCallbacks: "1",
        maxOutputBytes: "1mb",
        callbackAllowedHosts: ".example.com, hooks.example.org",
        callbackTimeoutMs: "600000",
        callbackMaxAttempts: "100",
        callbackRetryBaseMs: "0",
      },
      {},
    ],
    ["basic auth: a password with spaces and a colon, kept as it is", { authMode: "basic", basicAuthUsername: " adf " }, { basicAuthPassword: " pass:word " }],
    [
      "entra, with callers and the Data Factory's identity",
      {
        exposure: "https",
        acmeEmail: "ops@example.com",
        dataFactory: "true",
        authMode: "entra",
        entraTenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
        entraAudience: "api://adf-webhook, 44444444-4444-4444-4444-444444444444",
        entraAllowedCallers: "55555555-5555-5555-5555-555555555555",
        entraJwksUri: "https://login.microsoftonline.com/common/discovery/v2.0/keys",
      },
      {},
    ],
    [
      "a local cluster with insecure callbacks, a rehearsal receiver and a Data Factory",
      {
        target: "kubeconfig",
        registryServer: "localhost:5001",
        callbackAllowInsecure: "true",
        callbackTestReceiver: "http://172.18.0.1:8099",
        exposure: "loadbalancer",
        dataFactory: "true",
        dataFactoryResourceGroup: "rg",
        jobTimeoutMs: "1",
        maxQueuedJobs: "0",
        callbackMaxAttempts: "3",
      },
      { kubeconfig: "apiVersion: v1\nkind: Config\n" },
    ],
  ];

  for (const [name, values, secrets] of SHAPES) {
    it(`${name}: the pods' ConfigMap and Secret read, by the API, as the settings the stack checked`, async () => {
      const r = await run(values, secrets);
      const configMap = (r.one("kubernetes:core/v1:ConfigMap").inputs as any).data as Record<string, string>;
      const secret = ((r.one("kubernetes:core/v1:Secret").inputs as any).stringData ?? {}) as Record<string, string>;
      for (const key of Object.keys(secret)) assert.equal(key in configMap, false, `${key} is in the Secret and the ConfigMap`);
      const { settings } = loadConfig(reader(values, secrets)).api;
      // The program adds the factory's identity to the allowed callers.
      const factory = r.ofType("azure-native:datafactory:Factory").length > 0;
      const expected = factory && settings.AUTH_MODE === "entra" ? { ...settings, ENTRA_ALLOWED_CALLERS: [...(settings.ENTRA_ALLOWED_CALLERS ?? []), ADF_PRINCIPAL_ID] } : settings;
      const read = loadApiConfig({ ...configMap, ...secret });
      // The password as the user set it: the stack checked only that there was one.
      assert.equal(read.BASIC_AUTH_PASSWORD, secrets["basicAuthPassword"]);
      delete read.BASIC_AUTH_PASSWORD;
      assert.deepEqual(read, expected);
    });
  }

  it("any API setting the stack accepts, the API reads from the pods' environment as the stack checked it", () => {
    const int = (min: number, max: number) => fc.oneof(fc.integer({ min, max }), fc.constantFrom(min, max)).map(String);
    const size = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 31 }).map(String),
      fc.tuple(fc.integer({ min: 0, max: 4096 }), fc.constantFrom("b", "kb", "KB", "mb", "gb", " kb")).map(([n, unit]) => `${n}${unit}`),
      fc.tuple(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 999 }), fc.constantFrom("kb", "mb")).map(([n, f, unit]) => `${n}.${f}${unit}`),
    );
    const values = fc.record(
      {
        logLevel: fc.constantFrom("fatal", "error", "warn", "info", "debug", "trace", "silent"),
        bodyLimit: size,
        maxQueuedBytes: size,
        maxOutputBytes: size,
        drainTimeoutMs: int(0, 3_600_001),
        jobTimeoutMs: int(0, 7 * 86_400_000 + 1),
        maxConcurrentJobs: int(1, 100_000),
        maxQueuedJobs: int(0, 1_000_001),
        maxPendingCallbacks: int(0, 1_000_001),
        callbackAllowedHosts: fc.array(fc.domain(), { minLength: 1, maxLength: 3 }).map((hosts) => hosts.join(", ")),
        callbackTimeoutMs: int(1, 600_000),
        callbackMaxAttempts: int(1, 100),
        callbackRetryBaseMs: int(0, 600_000),
        azureCloud: fc.constantFrom("public", "usgovernment", "china"),
        authMode: fc.constantFrom("none", "basic"),
        basicAuthUsername: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
      },
      { requiredKeys: [] },
    );
    const password = fc.string({ minLength: 1, maxLength: 30 }).filter((p) => p.trim().length > 0);
    fc.assert(
      fc.property(values, password, (config, basicAuthPassword) => {
        let api;
        try {
          api = loadConfig(reader(config, { basicAuthPassword })).api;
        } catch (error) {
          if (error instanceof ConfigError) return; // refused: nothing reaches the pods
          throw error;
        }
        const read = loadApiConfig({ ...api.environment, ...(api.secrets.BASIC_AUTH_PASSWORD && { BASIC_AUTH_PASSWORD: basicAuthPassword }) });
        delete read.BASIC_AUTH_PASSWORD;
        assert.deepEqual(read, api.settings);
      }),
      { numRuns: 300 },
    );
  });
});
