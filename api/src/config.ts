import { isIP } from "node:net";
import { domainToASCII } from "node:url";
import { parseArgs } from "node:util";
import { z } from "zod";

import * as byteSizes from "./byte-size.js";
import * as backlogLimits from "./activities/backlog-limits.js";
import { AZURE_CLOUDS, AZURE_CLOUD_NAMES } from "./clouds.js";
import * as callbackPolicy from "./callbacks/policy.js";
import { blockedReason } from "./callbacks/callback-uri.js";

const { CALLBACK_DEFAULTS } = callbackPolicy;
const { parseByteSize } = byteSizes;
const { BACKLOG_DEFAULTS } = backlogLimits;

/**
 * The API's settings, read from the environment (and the original `-p/--port` flag) once at start-up.
 * Every name here is documented in docs/api.md's settings table (a test checks that they match).
 */
export type Config = z.output<typeof settingsSchema>;

const integer = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
    .transform(Number)
    .pipe(z.number().min(min, `must be between ${min} and ${max}`).max(max, `must be between ${min} and ${max}`));

/** A size such as `896kb`, `1mb` or `1048576` (bytes), as co-body's limits use it. */
const byteSize = z
  .string()
  .transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (bytes === undefined) ctx.addIssue({ code: "custom", message: "must be a size such as 512kb, 1mb or 1048576" });
    return bytes ?? z.NEVER;
  })
  .pipe(z.number().min(1, "must be at least 1 byte"));

const boolean = z.enum(["true", "false"], "must be true or false").transform((value) => value === "true");

/** A comma-separated list; blanks dropped. */
const list = z.string().transform((value) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean),
);

/** Host suffixes of the services that issue ADF callBackUris (Data Factory and Synapse) in the public cloud. */
export const DEFAULT_CALLBACK_HOSTS: readonly string[] = AZURE_CLOUDS.public.callbackHosts;

// URLs and hosts are judged on their parsed form, never by pattern: `http://localhost:80@evil.example/`
// starts like a loopback URL but its host is evil.example (`localhost:80` is a user and password).

/** Loopback as a parsed URL's hostname: 127.0.0.0/8, ::1 or the name localhost. */
function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return isIP(host) === 6 && host === "::1";
}

/** Why a URL setting is refused (https only, http only to a loopback host, no user:password@), or undefined. */
export function urlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "must be an absolute URL";
  }
  if (url.username || url.password) return "must not carry a user or password (user:password@host)";
  if (url.protocol === "https:") return undefined;
  if (url.protocol === "http:" && isLoopbackHostname(url.hostname)) return undefined;
  return "must use https (http only for a loopback host: 127.0.0.1, ::1 or localhost)";
}

const secureUrl = z.string().superRefine((value, ctx) => {
  const problem = urlProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

// One DNS label: letters, digits and inner hyphens, at most 63 characters.
const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why a callback host suffix is refused, or undefined. A suffix is a DNS name of two labels at least
 * (`datafactory.azure.com`; a leading `.` or `*.` is allowed and ignored): no scheme, port, path,
 * user or IP address, and not a bare top-level domain, which would allow every host under it.
 */
export function hostSuffixProblem(value: string): string | undefined {
  const name = value.replace(/^\*?\./, "").toLowerCase();
  if (isIP(name.replace(/^\[|\]$/g, ""))) return `has an IP address (${value}): host names only`;
  const ascii = domainToASCII(name);
  if (!ascii || ascii !== name) return `has something other than a host name (${value})`;
  const labels = name.split(".");
  if (!labels.every((label) => DNS_LABEL.test(label))) return `has something other than a host name (${value})`;
  if (labels.length < 2) return `has a bare top-level domain (${value}), which would allow every host under it`;
  return undefined;
}

/**
 * Why a CALLBACK_TEST_RECEIVER is refused, or undefined: exactly one origin `http://<ip>:<port>` (an IP
 * literal and an explicit port, no path, user, query or fragment), not a link-local, metadata or reserved
 * address (private and loopback ones are what it is for: a rehearsal receiver inside a local cluster).
 */
export function testReceiverProblem(value: string): string | undefined {
  const form = /^http:\/\/(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})\/?$/.exec(value);
  const host = form?.[1]?.replace(/^\[|\]$/g, "");
  if (!form || !host || !isIP(host)) return "must be one origin http://<ip>:<port> (an IP address and a port, nothing else)";
  const port = Number(form[2]);
  if (port < 1 || port > 65535) return "must have a port between 1 and 65535";
  const reason = blockedReason(host, true);
  if (reason && reason !== "a private address") return `must not be ${reason}`;
  return undefined;
}

const testReceiver = z.string().superRefine((value, ctx) => {
  const problem = testReceiverProblem(value);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

const hostSuffixes = list.superRefine((values, ctx) => {
  for (const value of values) {
    const problem = hostSuffixProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }
});

/** A bind address: an IP address or a host name, nothing else (no scheme, port or path). */
const bindHost = z.string().refine((value) => {
  if (isIP(value.replace(/^\[|\]$/g, ""))) return true;
  return value.toLowerCase().split(".").every((label) => DNS_LABEL.test(label));
}, "must be an IP address or a host name (no scheme, port or path)");

const settingsObject = z.object({
  PORT: integer(0, 65535).default(5002),
  HOST: bindHost.default("0.0.0.0"),
  // /metrics is served here only, never on PORT: the public entry reaches PORT alone.
  METRICS_PORT: integer(0, 65535).default(9464),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  BODY_LIMIT: byteSize.default(1024 ** 2),
  // Bytes of request bodies being received at once, all connections together (framework/body.ts): 16
  // bodies of the default BODY_LIMIT, which with the queue's 32 MiB and the process fit the pods' 256Mi.
  MAX_BODY_BYTES_IN_FLIGHT: byteSize.default(16 * 1024 ** 2),
  DRAIN_TIMEOUT_MS: integer(0, 3_600_000).default(20_000),

  // Jobs and their callbacks
  JOB_TIMEOUT_MS: integer(1, 7 * 24 * 3_600_000).default(600_000),
  MAX_CONCURRENT_JOBS: integer(1, 100_000).default(100),
  // What webhook work may hold in memory while it waits (see activities/backlog.ts and backlog-limits.ts).
  MAX_QUEUED_JOBS: integer(0, 1_000_000).default(BACKLOG_DEFAULTS.MAX_QUEUED_JOBS),
  MAX_PENDING_CALLBACKS: integer(1, 1_000_000).default(BACKLOG_DEFAULTS.MAX_PENDING_CALLBACKS),
  MAX_QUEUED_BYTES: byteSize.default(BACKLOG_DEFAULTS.MAX_QUEUED_BYTES),
  MAX_OUTPUT_BYTES: byteSize.default(BACKLOG_DEFAULTS.MAX_OUTPUT_BYTES),
  // Unset: the Data Factory and Synapse domains of AZURE_CLOUD (see the transform below).
  CALLBACK_ALLOWED_HOSTS: hostSuffixes.optional(),
  CALLBACK_ALLOW_INSECURE: boolean.default(false),
  // One origin callbacks may reach over http even when its address is private: a rehearsal's receiver.
  CALLBACK_TEST_RECEIVER: testReceiver.optional(),
  CALLBACK_TIMEOUT_MS: integer(1, 600_000).default(CALLBACK_DEFAULTS.CALLBACK_TIMEOUT_MS),
  CALLBACK_MAX_ATTEMPTS: integer(1, 100).default(CALLBACK_DEFAULTS.CALLBACK_MAX_ATTEMPTS),
  CALLBACK_RETRY_BASE_MS: integer(0, 600_000).default(CALLBACK_DEFAULTS.CALLBACK_RETRY_BASE_MS),

  // Which Azure: Entra ID's issuers and keys, and the default callback hosts.
  AZURE_CLOUD: z.enum(AZURE_CLOUD_NAMES, `must be one of ${AZURE_CLOUD_NAMES.join(", ")}`).default("public"),

  // Who may start jobs
  AUTH_MODE: z.enum(["none", "basic", "entra"]).default("none"),
  BASIC_AUTH_USERNAME: z.string().optional(),
  BASIC_AUTH_PASSWORD: z.string().optional(),
  ENTRA_TENANT_ID: z.string().regex(/^[0-9a-f-]{36}$/i, "must be a tenant id (a GUID)").optional(),
  ENTRA_AUDIENCE: list.optional(),
  ENTRA_ALLOWED_CALLERS: list.optional(),
  ENTRA_REQUIRED_ROLES: list.optional(),
  // https, so nobody on the path can swap the signing keys; http only to this machine (local tests).
  ENTRA_JWKS_URI: secureUrl.optional(),
});

const settingsSchema = settingsObject
  .superRefine((settings, ctx) => {
    const require = (key: keyof typeof settings, why: string) => {
      const value = settings[key];
      if (value === undefined || (Array.isArray(value) && value.length === 0)) {
        ctx.addIssue({ code: "custom", path: [key], message: `is required ${why}` });
      }
    };
    if (settings.METRICS_PORT !== 0 && settings.METRICS_PORT === settings.PORT) {
      ctx.addIssue({ code: "custom", path: ["METRICS_PORT"], message: "must differ from PORT" });
    }
    // The largest input and the largest output must each fit the queue's byte budget on their own.
    for (const key of ["BODY_LIMIT", "MAX_OUTPUT_BYTES"] as const) {
      if (settings[key] > settings.MAX_QUEUED_BYTES) {
        ctx.addIssue({ code: "custom", path: [key], message: `must not exceed MAX_QUEUED_BYTES (${settings.MAX_QUEUED_BYTES} bytes)` });
      }
    }
    if (settings.AUTH_MODE === "basic") {
      require("BASIC_AUTH_USERNAME", "when AUTH_MODE=basic");
      require("BASIC_AUTH_PASSWORD", "when AUTH_MODE=basic");
    }
    if (settings.AUTH_MODE === "entra") {
      require("ENTRA_TENANT_ID", "when AUTH_MODE=entra");
      require("ENTRA_AUDIENCE", "when AUTH_MODE=entra");
    }
  })
  .transform((settings) => ({
    ...settings,
    CALLBACK_ALLOWED_HOSTS: settings.CALLBACK_ALLOWED_HOSTS ?? [...AZURE_CLOUDS[settings.AZURE_CLOUD].callbackHosts],
  }));

/** Every environment variable the API reads: any other name in its environment means nothing to it. */
export const SETTING_NAMES: readonly string[] = Object.keys(settingsObject.shape);

/** Settings that must never be echoed, not even in a configuration error. */
const SECRET_SETTINGS = new Set(["BASIC_AUTH_PASSWORD"]);

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The `-p/--port N` flag of the original Flask script, kept so old run commands still work. */
function portFromArgs(argv: readonly string[]): string | undefined {
  try {
    const { values } = parseArgs({ args: [...argv], options: { port: { type: "string", short: "p" } }, strict: true });
    return values.port;
  } catch (error) {
    const firstLine = (error as Error).message.split("\n")[0];
    throw new ConfigError(`invalid arguments: ${firstLine} (usage: [-p|--port N])`);
  }
}

/** Reads and validates the configuration; throws a ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, argv: readonly string[] = []): Config {
  const input: Record<string, string> = {};
  for (const key of SETTING_NAMES) {
    // An empty variable means "not set"; secrets are taken as they are (a space may be part of them).
    const value = SECRET_SETTINGS.has(key) ? env[key] : env[key]?.trim();
    if (value) input[key] = value;
  }
  const port = portFromArgs(argv);
  if (port !== undefined) input.PORT = port;

  const result = settingsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0]);
      const got = input[key] === undefined ? "not set" : SECRET_SETTINGS.has(key) ? "got [redacted]" : `got ${JSON.stringify(input[key])}`;
      return `${key} ${issue.message} (${got})`;
    });
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  return result.data;
}
