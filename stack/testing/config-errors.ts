import * as assert from "node:assert/strict";

import { ConfigError, loadConfig } from "../config/index.js";
import { reader } from "./harness.js";

/** Asserts that the stack refuses the config, naming every given key (`- key: ...`); returns the message. */
export function refusedNaming(values: Record<string, string>, secrets: Record<string, string>, ...keys: string[]): string {
  let message = "";
  assert.throws(
    () => loadConfig(reader(values, secrets)),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, "a ConfigError");
      message = error.message;
      return true;
    },
  );
  for (const key of keys) assert.match(message, new RegExp(`- ${key}: `), `names ${key}: ${message}`);
  return message;
}
