import * as assert from "node:assert/strict";

import fc from "fast-check";

import { loadConfig as loadApiConfig, SETTING_NAMES, type Config as ApiConfig } from "../api/src/config.js";
import * as callbackPolicy from "../api/src/callbacks/policy.js";
import { ConfigError, loadConfig as loadStackConfig, toEnvironment, type ApiSettings } from "./config.js";
import { adfTimeout } from "./datafactory.js";
import { ADF_PRINCIPAL_ID, reader, run } from "./testing/harness.js";

/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

/**
 * The stack and the API are one system: what the stack writes into the pod's environment (the
 * ConfigMap and the Secret) is read by the API's own loadConfig here. Every key must be one the API
 * reads, the API must accept every value the stack accepts, and each value must mean to the API what
 * it meant to the stack (a number of milliseconds, a boolean, a list, a size in bytes).
 */

const KIB = 1024;
/** What the stack means by a size: k, m and g are powers of 1024, as its documentation says. */
function bytesMeant(size: string): number {
  const [, amount, unit] = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(size) ?? [];
  const factor = { "": 1, b: 1, kb: KIB, mb: KIB ** 2, gb: KIB ** 3 }[(unit ?? "").toLowerCase()];
  assert.ok(factor, `a size the stack accepted: ${size}`);
  return Math.floor(Number(amount) * factor);
}

/** Asserts that the API, reading `env`, sees what the stack's `settings` meant; returns the API's config. */
function assertMeansTheSame(env: Record<string, string>, settings: ApiSettings, secrets: Record<string, string> = {}): ApiConfig {
  for (const key of Object.keys(env)) assert.ok(SETTING_NAMES.includes(key), `${key} is not a setting the API reads`);
  const config = loadApiConfig(env);
  const defaults = loadApiConfig({});
  for (const key of SETTING_NAMES as (keyof ApiConfig)[]) {
    const meant = (settings as unknown as Record<string, unknown>)[key] ?? secrets[key];
    if (meant === undefined) {
      assert.deepEqual(config[key], defaults[key], `${key}: unset by the stack, so the API's default`);
    } else if (key === "BODY_LIMIT" || key === "MAX_QUEUED_BYTES" || key === "MAX_OUTPUT_BYTES") {
      assert.equal(config[key], bytesMeant(String(meant)), `${key} ${String(meant)}`);
    } else {
      assert.deepEqual(config[key], meant, key);
    }
  }
  return config;
}

describe("the stack's settings, read by the API (one source of truth)", function () {
  this.timeout(20_000);

  const configMapOf = (r: Awaited<ReturnType<typeof run>>): Record<string, string> => (r.one("kubernetes:core/v1:ConfigMap").inputs as any).data;
  const secretOf = (r: Awaited<ReturnType<typeof run>>): Record<string, string> => (r.one("kubernetes:core/v1:Secret").inputs as any).stringData ?? {};

  const SHAPES: [string, Record<string, string>, Record<string, string>][] = [
    ["the defaults", {}, {}],
    [
      "every API setting tuned, at the edges the stack allows",
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
      "a local cluster with insecure callbacks and a Data Factory",
      {
        target: "kubeconfig",
        registryServer: "localhost:5001",
        callbackAllowInsecure: "true",
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
    it(`${name}: the ConfigMap and the Secret mean to the API what they meant to the stack`, async () => {
      const r = await run(values, secrets);
      const configMap = configMapOf(r);
      const secret = secretOf(r);
      for (const key of Object.keys(secret)) assert.equal(key in configMap, false, `${key} is in the Secret and the ConfigMap`);
      const { api, apiSecrets } = loadStackConfig(reader(values, secrets));
      // The program adds the factory's identity to the allowed callers.
      const factory = r.ofType("azure-native:datafactory:Factory").length > 0;
      const settings: ApiSettings =
        factory && api.AUTH_MODE === "entra" ? { ...api, ENTRA_ALLOWED_CALLERS: [...(api.ENTRA_ALLOWED_CALLERS ?? []), ADF_PRINCIPAL_ID] } : api;
      const secretValues = Object.fromEntries(Object.keys(apiSecrets).map((key) => [key, secrets[key.replace(/^BASIC_AUTH_PASSWORD$/, "basicAuthPassword")]!]));
      const config = assertMeansTheSame({ ...configMap, ...secret }, settings, secretValues);

      // The container listens where the Deployment and the Service send traffic.
      const container = (r.one("kubernetes:apps/v1:Deployment").inputs as any).spec.template.spec.containers[0];
      assert.equal(config.PORT, container.ports[0].containerPort);

      // The sample pipeline waits as long as this API, so configured, may take to call back.
      if (factory) {
        const activities = (r.one("azure-native:datafactory:Pipeline").inputs as any).activities as Array<{ timeout: string }>;
        for (const activity of activities) {
          assert.equal(activity.timeout, adfTimeout(config.JOB_TIMEOUT_MS + callbackPolicy.callbackRetryWindowMs(config)));
        }
      }
    });
  }

  it("the stack's whole-number bounds are the API's own (probed from api/src/config.ts), neither narrower nor wider", () => {
    const apiAccepts = (key: string, value: number) => {
      try {
        loadApiConfig({ [key]: String(value) });
        return true;
      } catch {
        return false;
      }
    };
    const stackAccepts = (key: string, value: number) => {
      try {
        loadStackConfig(reader({ [key]: String(value) }));
        return true;
      } catch (error) {
        if (error instanceof ConfigError) return false;
        throw error;
      }
    };
    /** The largest value the API accepts, from one it accepts (binary search up to 2^40). */
    const apiMax = (key: string, from: number) => {
      let [low, high] = [from, 2 ** 40];
      while (high - low > 1) {
        const middle = Math.floor((low + high) / 2);
        if (apiAccepts(key, middle)) low = middle;
        else high = middle;
      }
      return low;
    };
    const KEYS: [string, string][] = [
      ["drainTimeoutMs", "DRAIN_TIMEOUT_MS"],
      ["jobTimeoutMs", "JOB_TIMEOUT_MS"],
      ["maxConcurrentJobs", "MAX_CONCURRENT_JOBS"],
      ["maxQueuedJobs", "MAX_QUEUED_JOBS"],
      ["maxPendingCallbacks", "MAX_PENDING_CALLBACKS"],
      ["callbackTimeoutMs", "CALLBACK_TIMEOUT_MS"],
      ["callbackMaxAttempts", "CALLBACK_MAX_ATTEMPTS"],
      ["callbackRetryBaseMs", "CALLBACK_RETRY_BASE_MS"],
    ];
    for (const [stackKey, apiKey] of KEYS) {
      const min = apiAccepts(apiKey, 0) ? 0 : 1;
      assert.ok(apiAccepts(apiKey, min), `${apiKey} accepts ${min}`);
      const max = apiMax(apiKey, min);
      assert.ok(stackAccepts(stackKey, min) && stackAccepts(stackKey, max), `${stackKey} accepts the API's range ${min}..${max}`);
      if (min > 0) assert.ok(!stackAccepts(stackKey, min - 1), `${stackKey} refuses ${min - 1}`);
      assert.ok(!stackAccepts(stackKey, max + 1), `${stackKey} refuses ${max + 1}, as the API does`);
    }
  });

  it("any API setting the stack accepts, the API accepts and reads as the stack meant it", () => {
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
        // One past each edge too: what the API would refuse, the stack must refuse.
        drainTimeoutMs: int(0, 3_600_001),
        jobTimeoutMs: int(0, 7 * 86_400_000 + 1),
        maxConcurrentJobs: int(1, 100_000),
        maxQueuedJobs: int(0, 1_000_001),
        maxPendingCallbacks: int(0, 1_000_001),
        callbackAllowedHosts: fc.array(fc.domain(), { minLength: 1, maxLength: 3 }).map((hosts) => hosts.join(", ")),
        callbackTimeoutMs: int(1, 600_000),
        callbackMaxAttempts: int(1, 100),
        callbackRetryBaseMs: int(0, 600_000),
        authMode: fc.constantFrom("none", "basic"),
        basicAuthUsername: fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
      },
      { requiredKeys: [] },
    );
    const password = fc.string({ minLength: 1, maxLength: 30 }).filter((p) => p.trim() === p || p.trim().length > 0);
    fc.assert(
      fc.property(values, password, (config, basicAuthPassword) => {
        let stack;
        try {
          stack = loadStackConfig(reader(config, { basicAuthPassword }));
        } catch (error) {
          if (error instanceof ConfigError) return; // the stack refused it: nothing reaches the API
          throw error;
        }
        const secrets: Record<string, string> = stack.api.AUTH_MODE === "basic" ? { BASIC_AUTH_PASSWORD: basicAuthPassword } : {};
        assertMeansTheSame({ ...toEnvironment(stack.api), ...secrets }, stack.api, secrets);
      }),
      { numRuns: 300 },
    );
  });
});
