import { parseArgs } from "node:util";
import { z } from "zod";

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

const BYTE_UNITS = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 } as const;

/** A size such as `896kb`, `1mb` or `1048576` (bytes), as co-body's limits use it. */
const byteSize = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(b|kb|mb|gb)?$/i, "must be a size such as 512kb, 1mb or 1048576")
  .transform((value) => {
    const [, amount = "0", unit = "b"] = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(value) ?? [];
    return Math.floor(Number(amount) * BYTE_UNITS[unit.toLowerCase() as keyof typeof BYTE_UNITS]);
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

/** Host suffixes of the services that issue ADF callBackUris (Data Factory and Synapse, public cloud). */
export const DEFAULT_CALLBACK_HOSTS = ["datafactory.azure.com", "azuresynapse.net"];

const settingsSchema = z
  .object({
    PORT: integer(0, 65535).default(5002),
    HOST: z.string().default("0.0.0.0"),
    // /metrics is served here only, never on PORT: the public entry reaches PORT alone.
    METRICS_PORT: integer(0, 65535).default(9464),
    LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    BODY_LIMIT: byteSize.default(1024 ** 2),
    DRAIN_TIMEOUT_MS: integer(0, 3_600_000).default(20_000),

    // Jobs and their callbacks
    JOB_TIMEOUT_MS: integer(1, 7 * 24 * 3_600_000).default(600_000),
    MAX_CONCURRENT_JOBS: integer(1, 100_000).default(100),
    CALLBACK_ALLOWED_HOSTS: list.default(DEFAULT_CALLBACK_HOSTS),
    CALLBACK_ALLOW_INSECURE: boolean.default(false),
    CALLBACK_TIMEOUT_MS: integer(1, 600_000).default(10_000),
    CALLBACK_MAX_ATTEMPTS: integer(1, 100).default(10),
    CALLBACK_RETRY_BASE_MS: integer(0, 600_000).default(500),

    // Who may start jobs
    AUTH_MODE: z.enum(["none", "basic", "entra"]).default("none"),
    BASIC_AUTH_USERNAME: z.string().optional(),
    BASIC_AUTH_PASSWORD: z.string().optional(),
    ENTRA_TENANT_ID: z.string().regex(/^[0-9a-f-]{36}$/i, "must be a tenant id (a GUID)").optional(),
    ENTRA_AUDIENCE: list.optional(),
    ENTRA_ALLOWED_CALLERS: list.optional(),
    // https, so nobody on the path can swap the signing keys; http only to this machine (local tests).
    ENTRA_JWKS_URI: z
      .url({ protocol: /^https?$/ })
      .refine((uri) => uri.startsWith("https:") || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(uri), "must use https (http only for 127.0.0.1 or localhost)")
      .optional(),
  })
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
    if (settings.AUTH_MODE === "basic") {
      require("BASIC_AUTH_USERNAME", "when AUTH_MODE=basic");
      require("BASIC_AUTH_PASSWORD", "when AUTH_MODE=basic");
    }
    if (settings.AUTH_MODE === "entra") {
      require("ENTRA_TENANT_ID", "when AUTH_MODE=entra");
      require("ENTRA_AUDIENCE", "when AUTH_MODE=entra");
    }
  });

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
  for (const key of Object.keys(settingsSchema.shape)) {
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
