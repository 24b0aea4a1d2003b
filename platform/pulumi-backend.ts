import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";

/**
 * A Pulumi backend of the platform's own: a `file://` backend in its state directory, and a passphrase
 * for its stacks' secrets, random per platform, made at the first `up` and kept in a file only its owner
 * reads. Both go with the state directory at `down`.
 */
export interface PulumiBackend {
  backendUrl: string;
  passphrase: string;
}

export function ensurePulumiBackend(backendDir: string, passphraseFile: string): PulumiBackend {
  fs.mkdirSync(backendDir, { recursive: true, mode: 0o700 });
  return { backendUrl: pathToFileURL(path.resolve(backendDir)).href, passphrase: ensurePassphrase(passphraseFile) };
}

function ensurePassphrase(file: string): string {
  try {
    // "wx": made once; a second `up` reuses it, so the stacks already in the backend stay readable.
    fs.writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  fs.chmodSync(file, 0o600);
  const passphrase = fs.readFileSync(file, "utf8").trim();
  if (passphrase === "") throw new Error(`${file} is empty: remove it, or run npm run platform -- down first`);
  return passphrase;
}
