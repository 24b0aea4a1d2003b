import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";

import { API_SECRET_KEYS, readApiSettings, type ApiSettings } from "./api-settings.js";
import { appSchema, type AppConfig } from "./app.js";
import { dataFactorySchema, type DataFactoryConfig } from "./data-factory.js";
import { exposureSchema, type ExposureConfig } from "./exposure.js";
import { imageSchema, type ImageConfig } from "./image.js";
import { TARGET_SECRET_KEYS, targetKindSchema, targetSchema, type Target } from "./target.js";

/**
 * The stack's configuration, read once from Pulumi config into one typed, checked object: one schema per
 * concern (this folder), the API's settings checked by the API's own schema. Every problem is reported at
 * once, each under the key the user typed. Every key is documented in Pulumi.dev.yaml and in
 * docs/deploy.md ("Stack configuration").
 *
 * `loadConfig` is a pure function of a config reader (a `pulumi.Config` in the program, a plain object in
 * the tests), so every configuration can be checked without the Pulumi engine.
 */

/** What the program reads config from: `new pulumi.Config()` satisfies it. */
export interface ConfigReader {
  get(key: string): string | undefined;
  getSecret(key: string): pulumi.Output<string> | undefined;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface StackConfig {
  target: Target;
  image: ImageConfig;
  app: AppConfig;
  api: ApiSettings;
  exposure: ExposureConfig;
  dataFactory: DataFactoryConfig | undefined;
}

/** Keys set with `pulumi config set --secret`: read as Pulumi secrets only, and never echoed. */
const SECRET_KEYS = new Set([...TARGET_SECRET_KEYS, ...API_SECRET_KEYS]);

export function loadConfig(reader: ConfigReader): StackConfig {
  // Each key is read when a schema asks for it, and once: a secret with getSecret, anything else trimmed
  // (an empty value means "not set").
  const read = new Map<string, string | pulumi.Output<string> | undefined>();
  const value = (key: string) => {
    if (!read.has(key)) read.set(key, SECRET_KEYS.has(key) ? reader.getSecret(key) : reader.get(key)?.trim() || undefined);
    return read.get(key);
  };
  // What the schemas parse: every key a schema names, read from the reader. (zod also asks whether this is
  // a plain object, through Object.prototype's members: those are never config keys.)
  const isKey = (key: string | symbol): key is string => typeof key === "string" && !(key in Object.prototype);
  const keys = new Proxy({} as Record<string, unknown>, {
    get: (_, key) => (isKey(key) ? value(key) : undefined),
    has: (_, key) => isKey(key) && value(key) !== undefined,
  });

  const problems: { key: string; message: string }[] = [];
  const parse = <S extends z.ZodType>(schema: S): { ok: true; data: z.output<S> } | { ok: false } => {
    const result = schema.safeParse(keys);
    if (result.success) return { ok: true, data: result.data };
    for (const issue of result.error.issues) problems.push({ key: String(issue.path[0] ?? "config"), message: issue.message });
    return { ok: false };
  };

  const target = parse(targetSchema);
  // The other concerns' rules that depend on the target see its kind even when its own keys were refused.
  const kind = targetKindSchema.safeParse(keys);
  const targetKind = kind.success ? kind.data : undefined;
  const image = parse(imageSchema(targetKind));
  const app = parse(appSchema(targetKind));
  const api = readApiSettings(value, targetKind);
  problems.push(...api.problems);
  const exposure = parse(exposureSchema({ targetKind, authMode: value("authMode") }));
  const dataFactory = parse(
    dataFactorySchema({
      targetKind,
      location: target.ok ? target.data.location : undefined,
      exposure: exposure.ok ? exposure.data : undefined,
      authMode: value("authMode"),
      entraAllowedCallers: value("entraAllowedCallers"),
    }),
  );

  if (!target.ok || !image.ok || !app.ok || !api.api || !exposure.ok || !dataFactory.ok) {
    // One line a key, its problems in the order found.
    const byKey = new Map<string, string[]>();
    for (const { key, message } of problems) byKey.set(key, [...new Set([...(byKey.get(key) ?? []), message])]);
    const lines = [...byKey].map(([key, messages]) => {
      const message = messages.join("; ");
      const typed = read.get(key);
      if (SECRET_KEYS.has(key)) {
        const how = typed === undefined && !message.includes("pulumi config set") ? ` (pulumi config set --secret ${key} <value>)` : "";
        return `${key}: ${message}${how}`;
      }
      return `${key}: ${message}${typed === undefined ? "" : ` (got ${JSON.stringify(typed)})`}`;
    });
    throw new ConfigError(`Invalid stack configuration:\n  - ${lines.join("\n  - ")}\nSee Pulumi.dev.yaml for every key.`);
  }
  return { target: target.data, image: image.data, app: app.data, api: api.api, exposure: exposure.data, dataFactory: dataFactory.data };
}
