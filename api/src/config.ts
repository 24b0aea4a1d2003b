import { parseArgs } from "node:util";

import { parseSettings, SECRET_SETTINGS, SETTING_NAMES, type SettingName, type Settings } from "./settings.js";

/**
 * The API's settings, read from the environment (and the original `-p/--port` flag) once at start-up.
 * What each setting means, its default and its bounds: settings.ts.
 */
export type Config = Settings;

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
  const input: Partial<Record<SettingName, string>> = {};
  for (const name of SETTING_NAMES) {
    // An empty variable means "not set"; secrets are taken as they are (a space may be part of them).
    const value = SECRET_SETTINGS.has(name) ? env[name] : env[name]?.trim();
    if (value) input[name] = value;
  }
  const port = portFromArgs(argv);
  if (port !== undefined) input.PORT = port;

  const { settings, problems } = parseSettings(input);
  if (problems) {
    const lines = problems.map(({ name, message }) => {
      const got = input[name] === undefined ? "not set" : SECRET_SETTINGS.has(name) ? "got [redacted]" : `got ${JSON.stringify(input[name])}`;
      return `${name} ${message} (${got})`;
    });
    throw new ConfigError(`invalid configuration: ${lines.join("; ")}`);
  }
  return settings;
}
