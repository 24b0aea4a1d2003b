/**
 * Loading the stack's config in the tests, from plain values: what the stack makes of the keys, and what
 * it refuses.
 */
import * as assert from "node:assert/strict";

import { ConfigError, loadConfig, type StackConfig } from "../config/index.js";
import { reader } from "./harness.js";

/** The config the stack reads from these keys (and secrets). */
export function configOf(values: Record<string, string>, secrets: Record<string, string> = {}): StackConfig {
  return loadConfig(reader(values, secrets));
}

/** Asserts that the stack refuses the config, naming every given key (`- key: ...`); returns the message. */
export function refusedNaming(values: Record<string, string>, secrets: Record<string, string>, ...keys: string[]): string {
  let message = "";
  assert.throws(
    () => configOf(values, secrets),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, "a ConfigError");
      message = error.message;
      return true;
    },
  );
  for (const key of keys) assert.match(message, new RegExp(`- ${key}: `), `names ${key}: ${message}`);
  return message;
}

/** Asserts that the stack refuses the config, naming `key`, with a message matching `pattern`; returns the message. */
export function refusedWith(values: Record<string, string>, key: string, pattern: RegExp, secrets: Record<string, string> = {}): string {
  const message = refusedNaming(values, secrets, key);
  assert.match(message, pattern);
  return message;
}
