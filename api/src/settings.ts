import { isIP } from "node:net";
import { domainToASCII } from "node:url";

import { z } from "zod";

import * as byteSizes from "./byte-size.js";
import * as backlogLimits from "./activities/backlog-limits.js";
import { AZURE_CLOUDS, AZURE_CLOUD_NAMES } from "./clouds.js";
import * as callbackPolicy from "./callbacks/policy.js";
import { blockedReason, HOST_LABEL, isLoopbackAddress } from "./callbacks/addresses.js";

/**
 * The API's settings: each one's name (the environment variable), type, default, bounds and message, and
 * the rules between them, stated once. The API reads its environment with this schema (config.ts), and the
 * Pulumi program checks the stack's keys with it before they reach a pod (stack/config/api-settings.ts).
 * Schema only: nothing here reads the environment or serves anything. Every name is documented in
 * docs/api.md's settings table (a test checks that they match).
 */

const { CALLBACK_DEFAULTS } = callbackPolicy;
const { parseByteSize } = byteSizes;
const { BACKLOG_DEFAULTS } = backlogLimits;

// --- the kinds of value a setting takes, as the environment (or a Pulumi config key) spells them --------

/** A whole number between min and max, written in digits. */
export const wholeNumber = (min: number, max: number) => {
  const message = `must be a whole number between ${min} and ${max}`;
  return z.string().regex(/^\d+$/, message).transform(Number).pipe(z.number().min(min, message).max(max, message));
};

/** A size such as `896kb`, `1mb` or `1048576` (bytes), as co-body's limits use it. */
const byteSize = z
  .string()
  .transform((value, ctx) => {
    const bytes = parseByteSize(value);
    if (bytes === undefined) ctx.addIssue({ code: "custom", message: "must be a size such as 512kb, 1mb or 1048576" });
    return bytes ?? z.NEVER;
  })
  .pipe(z.number().min(1, "must be at least 1 byte"));

export const trueOrFalse = z.enum(["true", "false"], "must be true or false").transform((value) => value === "true");

/** One of a few words. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) => z.enum(values, `must be one of ${values.join(", ")}`);

/** A comma-separated list; blanks dropped. */
export const commaList = z.string().transform((value) =>
  value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean),
);

/** A comma-separated list whose every item passes `problem` (undefined: fine; else why it is refused). */
export const commaListOf = (problem: (item: string) => string | undefined) =>
  commaList.superRefine((items, ctx) => {
    for (const item of items) {
      const why = problem(item);
      if (why) ctx.addIssue({ code: "custom", message: why });
    }
  });

/** A string that passes `problem` (undefined: fine; else why it is refused). */
const checked = (problem: (value: string) => string | undefined) =>
  z.string().superRefine((value, ctx) => {
    const why = problem(value);
    if (why) ctx.addIssue({ code: "custom", message: why });
  });

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// URLs and hosts are judged on their parsed form, never by pattern: `http://localhost:80@evil.example/`
// starts like a loopback URL but its host is evil.example (`localhost:80` is a user and password).

/** Loopback as a parsed URL's hostname: 127.0.0.0/8, ::1 or the name localhost. */
function isLoopbackHostname(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return host === "localhost" || (isIP(host) !== 0 && isLoopbackAddress(host));
}

/** Why a URL setting is refused (https only, http only to a loopback host, no user:password@), or undefined. */
function urlProblem(value: string): string | undefined {
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

/**
 * Why a callback host suffix is refused, or undefined. A suffix is a DNS name of two labels at least
 * (`datafactory.azure.com`; a leading `.` or `*.` is allowed and ignored): no scheme, port, path,
 * user or IP address, and not a bare top-level domain, which would allow every host under it.
 */
function hostSuffixProblem(value: string): string | undefined {
  const name = value.replace(/^\*?\./, "").toLowerCase();
  if (isIP(name.replace(/^\[|\]$/g, ""))) return `has an IP address (${value}): host names only`;
  const ascii = domainToASCII(name);
  if (!ascii || ascii !== name) return `has something other than a host name (${value})`;
  const labels = name.split(".");
  if (!labels.every((label) => HOST_LABEL.test(label))) return `has something other than a host name (${value})`;
  if (labels.length < 2) return `has a bare top-level domain (${value}), which would allow every host under it`;
  return undefined;
}

/**
 * Why a CALLBACK_TEST_RECEIVER is refused, or undefined: exactly one origin `http://<ip>:<port>` (an IP
 * literal and an explicit port, no path, user, query or fragment), not a link-local, metadata or reserved
 * address (private and loopback ones are what it is for: a rehearsal receiver inside a local cluster).
 */
function testReceiverProblem(value: string): string | undefined {
  const form = /^http:\/\/(\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5})\/?$/.exec(value);
  const host = form?.[1]?.replace(/^\[|\]$/g, "");
  if (!form || !host || !isIP(host)) return "must be one origin http://<ip>:<port> (an IP address and a port, nothing else)";
  const port = Number(form[2]);
  if (port < 1 || port > 65535) return "must have a port between 1 and 65535";
  const reason = blockedReason(host, true);
  if (reason && reason !== "a private address") return `must not be ${reason}`;
  return undefined;
}

/** A bind address: an IP address or a host name, nothing else (no scheme, port or path). */
const bindHost = z.string().refine((value) => {
  if (isIP(value.replace(/^\[|\]$/g, ""))) return true;
  return value.toLowerCase().split(".").every((label) => HOST_LABEL.test(label));
}, "must be an IP address or a host name (no scheme, port or path)");

// --- the settings -----------------------------------------------------------------------------------------
// Defaults are written as the environment would write them (`.prefault`): the API parses them as it parses
// a value that was set, and the stack writes some of them into the pods' environment as they are.

const settingsObject = z.object({
  PORT: wholeNumber(0, 65535).prefault("5002"),
  HOST: bindHost.prefault("0.0.0.0"),
  // /metrics is served here only, never on PORT: the public entry reaches PORT alone.
  METRICS_PORT: wholeNumber(0, 65535).prefault("9464"),
  LOG_LEVEL: oneOf(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).prefault("info"),
  BODY_LIMIT: byteSize.prefault("1mb"),
  // Bytes of request bodies being received at once, all connections together (framework/body.ts): 16
  // bodies of the default BODY_LIMIT, which with the queue's 32 MiB and the process fit the pods' 256Mi.
  MAX_BODY_BYTES_IN_FLIGHT: byteSize.prefault("16mb"),
  DRAIN_TIMEOUT_MS: wholeNumber(0, 3_600_000).prefault("20000"),

  // Jobs and their callbacks
  JOB_TIMEOUT_MS: wholeNumber(1, 7 * 24 * 3_600_000).prefault("600000"),
  MAX_CONCURRENT_JOBS: wholeNumber(1, 100_000).prefault("100"),
  // What webhook work may hold in memory while it waits (see activities/backlog.ts and backlog-limits.ts).
  MAX_QUEUED_JOBS: wholeNumber(0, 1_000_000).prefault(String(BACKLOG_DEFAULTS.MAX_QUEUED_JOBS)),
  MAX_PENDING_CALLBACKS: wholeNumber(1, 1_000_000).prefault(String(BACKLOG_DEFAULTS.MAX_PENDING_CALLBACKS)),
  MAX_QUEUED_BYTES: byteSize.prefault(String(BACKLOG_DEFAULTS.MAX_QUEUED_BYTES)),
  MAX_OUTPUT_BYTES: byteSize.prefault(String(BACKLOG_DEFAULTS.MAX_OUTPUT_BYTES)),
  // Unset: the Data Factory and Synapse domains of AZURE_CLOUD (see the transform below).
  CALLBACK_ALLOWED_HOSTS: commaListOf(hostSuffixProblem).optional(),
  CALLBACK_ALLOW_INSECURE: trueOrFalse.prefault("false"),
  // One origin callbacks may reach over http even when its address is private: a rehearsal's receiver.
  CALLBACK_TEST_RECEIVER: checked(testReceiverProblem).optional(),
  CALLBACK_TIMEOUT_MS: wholeNumber(1, 600_000).prefault(String(CALLBACK_DEFAULTS.CALLBACK_TIMEOUT_MS)),
  CALLBACK_MAX_ATTEMPTS: wholeNumber(1, 100).prefault(String(CALLBACK_DEFAULTS.CALLBACK_MAX_ATTEMPTS)),
  CALLBACK_RETRY_BASE_MS: wholeNumber(0, 600_000).prefault(String(CALLBACK_DEFAULTS.CALLBACK_RETRY_BASE_MS)),

  // Which Azure: Entra ID's issuers and keys, and the default callback hosts.
  AZURE_CLOUD: oneOf(AZURE_CLOUD_NAMES as [AzureCloudName, ...AzureCloudName[]]).prefault("public"),

  // Who may start jobs
  AUTH_MODE: oneOf(["none", "basic", "entra"]).prefault("none"),
  BASIC_AUTH_USERNAME: z.string().optional(),
  BASIC_AUTH_PASSWORD: z.string().optional(),
  ENTRA_TENANT_ID: z.string().regex(GUID, "must be a tenant id (a GUID)").optional(),
  ENTRA_AUDIENCE: commaList.optional(),
  // Compared with the token's `oid`: object ids, which are GUIDs.
  ENTRA_ALLOWED_CALLERS: commaListOf((item) => (GUID.test(item) ? undefined : `must be object ids (GUIDs), comma-separated (${item} is not one)`)).optional(),
  ENTRA_REQUIRED_ROLES: commaList.optional(),
  // https, so nobody on the path can swap the signing keys; http only to this machine (local tests).
  ENTRA_JWKS_URI: checked(urlProblem).optional(),
});

type AzureCloudName = (typeof AZURE_CLOUD_NAMES)[number];

/** Every environment variable the API reads: any other name in its environment means nothing to it. */
export type SettingName = keyof typeof settingsObject.shape;
export const SETTING_NAMES = Object.keys(settingsObject.shape) as SettingName[];

/** Settings that must never be echoed, not even in a configuration error. */
export const SECRET_SETTINGS: ReadonlySet<SettingName> = new Set<SettingName>(["BASIC_AUTH_PASSWORD"]);

/** Each setting's default as the environment writes it (`1mb`, `20000`, `false`); none for an optional setting. */
export const SETTING_DEFAULTS: Readonly<Partial<Record<SettingName, string>>> = Object.fromEntries(
  Object.entries(z.toJSONSchema(settingsObject, { io: "input", unrepresentable: "any" }).properties ?? {}).flatMap(([name, property]) =>
    typeof property === "object" && typeof property.default === "string" ? [[name, property.default]] : [],
  ),
);

/** The defaults, as the API reads them (for the rules below). */
const defaults = settingsObject.parse({});

const settingsSchema = settingsObject
  .superRefine((settings, ctx) => {
    const require = (name: SettingName, why: string) => {
      const value = settings[name];
      if (value === undefined || (Array.isArray(value) && value.length === 0)) {
        ctx.addIssue({ code: "custom", path: [name], message: `is required ${why}` });
      }
    };
    // (A setting refused above is still its text here: the rules compare numbers only.)
    const number = (value: unknown) => (typeof value === "number" ? value : undefined);
    const metricsPort = number(settings.METRICS_PORT);
    if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === number(settings.PORT)) {
      ctx.addIssue({ code: "custom", path: ["METRICS_PORT"], message: "must differ from PORT" });
    }
    // The largest input and the largest output must each fit the queue's byte budget on their own. Named
    // after what moved: a budget lowered below its default is too small, else the size is too large.
    for (const name of ["BODY_LIMIT", "MAX_OUTPUT_BYTES"] as const) {
      if (number(settings[name]) === undefined || number(settings.MAX_QUEUED_BYTES) === undefined || settings[name] <= settings.MAX_QUEUED_BYTES) continue;
      if (settings.MAX_QUEUED_BYTES < defaults.MAX_QUEUED_BYTES) {
        ctx.addIssue({ code: "custom", path: ["MAX_QUEUED_BYTES"], message: `must be at least ${settings[name]} bytes, to hold ${name}` });
      } else {
        ctx.addIssue({ code: "custom", path: [name], message: `must not exceed MAX_QUEUED_BYTES (${settings.MAX_QUEUED_BYTES} bytes)` });
      }
    }
    if (settings.AUTH_MODE === "basic") {
      require("BASIC_AUTH_USERNAME", "when AUTH_MODE is basic");
      require("BASIC_AUTH_PASSWORD", "when AUTH_MODE is basic");
    }
    if (settings.AUTH_MODE === "entra") {
      require("ENTRA_TENANT_ID", "when AUTH_MODE is entra");
      require("ENTRA_AUDIENCE", "when AUTH_MODE is entra");
    }
    // Every problem at once: these rules run even when a setting was refused above.
  }, { when: () => true })
  .transform((settings) => ({
    ...settings,
    CALLBACK_ALLOWED_HOSTS: settings.CALLBACK_ALLOWED_HOSTS ?? [...AZURE_CLOUDS[settings.AZURE_CLOUD].callbackHosts],
  }));

/** The API's settings, read and checked. */
export type Settings = z.output<typeof settingsSchema>;

/** One refused setting: its name and why. */
export interface SettingProblem {
  name: SettingName;
  message: string;
}

/**
 * Parses settings as the environment spells them (`undefined` or absent: not set, the default applies).
 * Every problem at once, each under the setting it is about.
 */
export function parseSettings(input: Partial<Record<SettingName, string>>): { settings: Settings; problems?: never } | { settings?: never; problems: SettingProblem[] } {
  const result = settingsSchema.safeParse(input);
  if (result.success) return { settings: result.data };
  return { problems: result.error.issues.map((issue) => ({ name: issue.path[0] as SettingName, message: issue.message })) };
}
