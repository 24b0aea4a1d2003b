import assert from "node:assert/strict";

import { AZURE_CLOUDS } from "./clouds.js";
import { ConfigError, loadConfig } from "./config.js";
import { SETTING_DEFAULTS, SETTING_NAMES } from "./settings.js";

describe("config", () => {
  it("has the documented defaults", () => {
    const config = loadConfig({});
    assert.equal(config.PORT, 5002);
    assert.equal(config.HOST, "0.0.0.0");
    assert.equal(config.METRICS_PORT, 9464);
    assert.equal(config.LOG_LEVEL, "info");
    assert.equal(config.BODY_LIMIT, 1024 * 1024);
    assert.equal(config.DRAIN_TIMEOUT_MS, 20_000);
    assert.equal(config.JOB_TIMEOUT_MS, 600_000);
    assert.equal(config.MAX_CONCURRENT_JOBS, 100);
    assert.equal(config.MAX_QUEUED_JOBS, 1000);
    assert.equal(config.MAX_PENDING_CALLBACKS, 1000);
    assert.equal(config.MAX_QUEUED_BYTES, 32 * 1024 * 1024);
    assert.equal(config.MAX_OUTPUT_BYTES, 4_000_000);
    assert.equal(config.MAX_BODY_BYTES_IN_FLIGHT, 16 * 1024 * 1024);
    assert.deepEqual(config.CALLBACK_ALLOWED_HOSTS, AZURE_CLOUDS.public.callbackHosts);
    assert.equal(config.CALLBACK_ALLOW_INSECURE, false);
    assert.equal(config.AUTH_MODE, "none");
  });

  it("states each default as the environment writes it, and reads it as it reads a value that was set", () => {
    assert.deepEqual(SETTING_DEFAULTS, {
      PORT: "5002",
      HOST: "0.0.0.0",
      METRICS_PORT: "9464",
      LOG_LEVEL: "info",
      BODY_LIMIT: "1mb",
      MAX_BODY_BYTES_IN_FLIGHT: "16mb",
      DRAIN_TIMEOUT_MS: "20000",
      JOB_TIMEOUT_MS: "600000",
      MAX_CONCURRENT_JOBS: "100",
      MAX_QUEUED_JOBS: "1000",
      MAX_PENDING_CALLBACKS: "1000",
      MAX_QUEUED_BYTES: "33554432",
      MAX_OUTPUT_BYTES: "4000000",
      CALLBACK_ALLOW_INSECURE: "false",
      CALLBACK_TIMEOUT_MS: "10000",
      CALLBACK_MAX_ATTEMPTS: "10",
      CALLBACK_RETRY_BASE_MS: "500",
      AZURE_CLOUD: "public",
      AUTH_MODE: "none",
    });
    assert.deepEqual(loadConfig(SETTING_DEFAULTS), loadConfig({}));
    for (const name of Object.keys(SETTING_DEFAULTS)) assert.ok(SETTING_NAMES.includes(name as never), name);
  });

  it("CALLBACK_TEST_RECEIVER takes one origin of a private, loopback or public IP address", () => {
    for (const origin of ["http://10.244.0.1:8099", "http://172.18.0.1:8099/", "http://127.0.0.1:1", "http://[fd00::5]:80"]) {
      assert.equal(loadConfig({ CALLBACK_TEST_RECEIVER: origin }).CALLBACK_TEST_RECEIVER, origin);
    }
    assert.equal(loadConfig({}).CALLBACK_TEST_RECEIVER, undefined);
  });

  it("MAX_BODY_BYTES_IN_FLIGHT: 16 MiB unset, as given when set (below BODY_LIMIT too: such a body is read alone)", () => {
    assert.equal(loadConfig({ BODY_LIMIT: "20mb", MAX_QUEUED_BYTES: "64mb" }).MAX_BODY_BYTES_IN_FLIGHT, 16 * 1024 * 1024);
    assert.equal(loadConfig({ MAX_BODY_BYTES_IN_FLIGHT: "4mb" }).MAX_BODY_BYTES_IN_FLIGHT, 4 * 1024 * 1024);
  });

  it("reads the environment, treating empty variables as unset", () => {
    const config = loadConfig({ PORT: "8080", HOST: "127.0.0.1", BODY_LIMIT: "896kb", LOG_LEVEL: "", CALLBACK_ALLOWED_HOSTS: " a.example , b.example ," });
    assert.equal(config.PORT, 8080);
    assert.equal(config.HOST, "127.0.0.1");
    assert.equal(config.BODY_LIMIT, 896 * 1024);
    assert.equal(config.LOG_LEVEL, "info");
    assert.deepEqual(config.CALLBACK_ALLOWED_HOSTS, ["a.example", "b.example"]);
  });

  it("reads BODY_LIMIT as bytes, with kb, mb and gb as powers of 1024", () => {
    for (const [size, bytes] of [
      ["1048576", 1_048_576],
      ["1", 1],
      ["512kb", 512 * 1024],
      ["1.5MB", 1.5 * 1024 ** 2],
      ["1 gb", 1024 ** 3],
    ] as const) {
      // (MAX_QUEUED_BYTES raised with it: the budget must hold the largest body.)
      assert.equal(loadConfig({ BODY_LIMIT: size, MAX_QUEUED_BYTES: "2gb" }).BODY_LIMIT, bytes, size);
    }
    assert.throws(() => loadConfig({ BODY_LIMIT: "0" }), /BODY_LIMIT must be at least 1 byte/);
  });

  it("takes the original -p/--port flag over PORT", () => {
    assert.equal(loadConfig({ PORT: "1" }, ["-p", "6000"]).PORT, 6000);
    assert.equal(loadConfig({}, ["--port=6001"]).PORT, 6001);
  });

  for (const [env, args, expected] of [
    [{ PORT: "abc" }, [], /PORT must be a whole number between 0 and 65535 \(got "abc"\)/],
    [{ PORT: "70000" }, [], /PORT must be a whole number between 0 and 65535 \(got "70000"\)/],
    [{}, ["--port", "-1"], /invalid arguments|PORT/],
    [{}, ["--verbose"], /invalid arguments: .*verbose.* \(usage: \[-p\|--port N\]\)/],
    [{ METRICS_PORT: "metrics" }, [], /METRICS_PORT must be a whole number between 0 and 65535/],
    [{ PORT: "8080", METRICS_PORT: "8080" }, [], /METRICS_PORT must differ from PORT \(got "8080"\)/],
    [{ METRICS_PORT: "5002" }, [], /METRICS_PORT must differ from PORT/],
    // Two ports refused: two problems, not a third "must differ" between two values neither of which is a port.
    [{ PORT: "abc", METRICS_PORT: "xyz" }, [], /^invalid configuration: PORT must be a whole number between 0 and 65535 \(got "abc"\); METRICS_PORT must be a whole number between 0 and 65535 \(got "xyz"\)$/],
    [{ BODY_LIMIT: "lots" }, [], /BODY_LIMIT must be a size such as 512kb/],
    [{ LOG_LEVEL: "loud" }, [], /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "loud"\)/],
    [{ AUTH_MODE: "mtls" }, [], /AUTH_MODE must be one of none, basic, entra/],
    [{ CALLBACK_ALLOW_INSECURE: "yes" }, [], /CALLBACK_ALLOW_INSECURE must be true or false/],
    [{ AUTH_MODE: "basic", BASIC_AUTH_USERNAME: "adf" }, [], /BASIC_AUTH_PASSWORD is required when AUTH_MODE is basic \(not set\)/],
    [{ AUTH_MODE: "entra" }, [], /ENTRA_TENANT_ID is required when AUTH_MODE is entra.*ENTRA_AUDIENCE is required/],
    [{ MAX_QUEUED_JOBS: "-1" }, [], /MAX_QUEUED_JOBS must be a whole number between 0 and 1000000/],
    // The byte budget must hold the largest body and output, and the error names what moved from its default.
    [{ BODY_LIMIT: "64mb" }, [], /BODY_LIMIT must not exceed MAX_QUEUED_BYTES \(33554432 bytes\) \(got "64mb"\)/],
    [{ MAX_OUTPUT_BYTES: "40mb", MAX_QUEUED_BYTES: "36mb" }, [], /MAX_OUTPUT_BYTES must not exceed MAX_QUEUED_BYTES \(37748736 bytes\)/],
    [{ MAX_QUEUED_BYTES: "1mb", BODY_LIMIT: "2mb" }, [], /MAX_QUEUED_BYTES must be at least 2097152 bytes, to hold BODY_LIMIT \(got "1mb"\)/],
    [{ MAX_QUEUED_BYTES: "1mb", BODY_LIMIT: "1kb" }, [], /^invalid configuration: MAX_QUEUED_BYTES must be at least 4000000 bytes, to hold MAX_OUTPUT_BYTES \(got "1mb"\)$/],
    [{ ENTRA_TENANT_ID: "------------------------------------" }, [], /ENTRA_TENANT_ID must be a tenant id \(a GUID\)/],
    [{ ENTRA_ALLOWED_CALLERS: "33333333-3333-3333-3333-333333333333, bob" }, [], /ENTRA_ALLOWED_CALLERS must be object ids \(GUIDs\), comma-separated \(bob is not one\)/],
    [{ CALLBACK_TEST_RECEIVER: "http://rehearsal.local:8099" }, [], /CALLBACK_TEST_RECEIVER must be one origin http:\/\/<ip>:<port>/],
    [{ CALLBACK_TEST_RECEIVER: "https://10.0.0.5:8099" }, [], /CALLBACK_TEST_RECEIVER must be one origin/],
    [{ CALLBACK_TEST_RECEIVER: "http://10.0.0.5" }, [], /CALLBACK_TEST_RECEIVER must be one origin/],
    [{ CALLBACK_TEST_RECEIVER: "http://10.0.0.5:8099/callback" }, [], /CALLBACK_TEST_RECEIVER must be one origin/],
    [{ CALLBACK_TEST_RECEIVER: "http://10.0.0.5:8099,http://10.0.0.6:8099" }, [], /CALLBACK_TEST_RECEIVER must be one origin/],
    [{ CALLBACK_TEST_RECEIVER: "http://10.0.0.5:0" }, [], /CALLBACK_TEST_RECEIVER must have a port between 1 and 65535/],
    [{ CALLBACK_TEST_RECEIVER: "http://169.254.169.254:80" }, [], /CALLBACK_TEST_RECEIVER must not be a link-local, metadata or reserved address/],
    [{ MAX_BODY_BYTES_IN_FLIGHT: "lots" }, [], /MAX_BODY_BYTES_IN_FLIGHT must be a size such as 512kb/],
  ] as const) {
    it(`refuses ${JSON.stringify({ ...env, args })} with one clear message`, () => {
      assert.throws(() => loadConfig(env, args), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, expected);
        assert.doesNotMatch(error.message, /\n/);
        return true;
      });
    });
  }

  it("names every bad setting at once, the rules between settings included", () => {
    assert.throws(
      () => loadConfig({ PORT: "abc", BODY_LIMIT: "64mb", AUTH_MODE: "basic" }),
      /invalid configuration: PORT must be .*; BODY_LIMIT must not exceed MAX_QUEUED_BYTES .*; BASIC_AUTH_USERNAME is required .*; BASIC_AUTH_PASSWORD is required /,
    );
  });

  it("takes secrets as they are, spaces included", () => {
    const config = loadConfig({ AUTH_MODE: "basic", BASIC_AUTH_USERNAME: " adf ", BASIC_AUTH_PASSWORD: " pass word " });
    assert.equal(config.BASIC_AUTH_USERNAME, "adf");
    assert.equal(config.BASIC_AUTH_PASSWORD, " pass word ");
  });

  it("wants the Entra signing keys over https (http only on this machine)", () => {
    assert.throws(() => loadConfig({ ENTRA_JWKS_URI: "http://keys.example.com/keys" }), /ENTRA_JWKS_URI must use https/);
    assert.equal(loadConfig({ ENTRA_JWKS_URI: "http://127.0.0.1:8080/keys" }).ENTRA_JWKS_URI, "http://127.0.0.1:8080/keys");
  });

  describe("settings that hold a URL or a host are judged on their parsed form", () => {
    const refusedKeys: Array<[string, RegExp]> = [
      // Looks like loopback, but `localhost:80` is a user and password: the host is evil.example, over http.
      ["http://localhost:80@evil.example/keys", /must not carry a user or password/],
      ["https://user:pass@login.microsoftonline.com/t/discovery/v2.0/keys", /must not carry a user or password/],
      ["https://127.0.0.1@evil.example/keys", /must not carry a user or password/],
      ["http://127.0.0.1.evil.example/keys", /must use https/],
      ["http://localhost.evil.example/keys", /must use https/],
      ["http://[::1].evil.example/keys", /absolute URL|must use https/],
      ["http://keys.example.com/keys", /must use https/],
      ["ftp://127.0.0.1/keys", /must use https/],
      ["file:///etc/passwd", /must use https/],
      ["//login.microsoftonline.com/keys", /must be an absolute URL/],
      ["login.microsoftonline.com/keys", /must be an absolute URL/],
    ];
    for (const [value, message] of refusedKeys) {
      it(`refuses ENTRA_JWKS_URI=${value}`, () => {
        assert.throws(() => loadConfig({ ENTRA_JWKS_URI: value }), (error: Error) => /^invalid configuration: ENTRA_JWKS_URI /.test(error.message) && message.test(error.message));
      });
    }

    it("accepts https anywhere, and http only to a loopback host", () => {
      for (const value of [
        "https://login.microsoftonline.us/72f988bf-86f1-41af-91ab-2d7cd011db47/discovery/v2.0/keys",
        "http://127.0.0.1:8080/keys",
        "http://127.8.9.10/keys",
        "http://[::1]:9000/keys",
        "http://localhost/keys",
      ]) {
        assert.equal(loadConfig({ ENTRA_JWKS_URI: value }).ENTRA_JWKS_URI, value);
      }
    });

    for (const value of ["com", "https://datafactory.azure.com", "datafactory.azure.com:443", "datafactory.azure.com/x", "user@datafactory.azure.com", "10.0.0.1", "[::1]", "bad_host.example", "*.net"]) {
      it(`refuses CALLBACK_ALLOWED_HOSTS entry ${JSON.stringify(value)}`, () => {
        assert.throws(() => loadConfig({ CALLBACK_ALLOWED_HOSTS: `datafactory.azure.com,${value}` }), /invalid configuration: CALLBACK_ALLOWED_HOSTS /);
      });
    }

    it("accepts host suffixes with a leading . or *.", () => {
      assert.deepEqual(loadConfig({ CALLBACK_ALLOWED_HOSTS: ".datafactory.azure.com, *.azuresynapse.net, Adf.Example.org" }).CALLBACK_ALLOWED_HOSTS, [
        ".datafactory.azure.com",
        "*.azuresynapse.net",
        "Adf.Example.org",
      ]);
    });

    it("HOST is an IP address or a host name, nothing more", () => {
      for (const value of ["0.0.0.0", "::", "127.0.0.1", "localhost", "api.internal"]) assert.equal(loadConfig({ HOST: value }).HOST, value);
      for (const value of ["http://0.0.0.0", "0.0.0.0:5002", "localhost/x", "a b"]) {
        assert.throws(() => loadConfig({ HOST: value }), /HOST must be an IP address or a host name/, value);
      }
    });
  });

  describe("AZURE_CLOUD", () => {
    it("is public by default; each cloud brings its Data Factory and Synapse domains as the default callback hosts", () => {
      assert.equal(loadConfig({}).AZURE_CLOUD, "public");
      assert.deepEqual(loadConfig({}).CALLBACK_ALLOWED_HOSTS, ["datafactory.azure.com", "azuresynapse.net"]);
      assert.deepEqual(loadConfig({ AZURE_CLOUD: "usgovernment" }).CALLBACK_ALLOWED_HOSTS, ["datafactory.azure.us", "azuresynapse.usgovcloudapi.net"]);
      assert.deepEqual(loadConfig({ AZURE_CLOUD: "china" }).CALLBACK_ALLOWED_HOSTS, ["datafactory.azure.cn", "azuresynapse.azure.cn"]);
    });

    it("CALLBACK_ALLOWED_HOSTS, when set, replaces the cloud's default", () => {
      assert.deepEqual(loadConfig({ AZURE_CLOUD: "china", CALLBACK_ALLOWED_HOSTS: "adf.example.cn" }).CALLBACK_ALLOWED_HOSTS, ["adf.example.cn"]);
    });

    it("refuses an unknown cloud", () => {
      assert.throws(() => loadConfig({ AZURE_CLOUD: "germany" }), /AZURE_CLOUD must be one of public, usgovernment, china \(got "germany"\)/);
    });

    it("reads ENTRA_REQUIRED_ROLES as a list", () => {
      assert.deepEqual(loadConfig({ ENTRA_REQUIRED_ROLES: "Jobs.Run, Jobs.Admin" }).ENTRA_REQUIRED_ROLES, ["Jobs.Run", "Jobs.Admin"]);
    });
  });

  it("never echoes a secret setting in its errors", () => {
    assert.throws(
      () => loadConfig({ AUTH_MODE: "basic", BASIC_AUTH_PASSWORD: "hunter2" }),
      (error: Error) => !error.message.includes("hunter2") && /BASIC_AUTH_USERNAME/.test(error.message),
    );
  });
});
