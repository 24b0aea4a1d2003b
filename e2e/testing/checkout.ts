/**
 * A deployer's checkout: a `git clone` of this repository's HEAD, at its own path and depth, so the
 * scenarios run the committed program (Pulumi.yaml, `main: stack/`) and their `Pulumi.<stack>.yaml`
 * files never land in the checkout being worked in.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);

/** This repository: what the scenarios clone, and whose node_modules they use. */
export const REPO = path.resolve(import.meta.dirname, "../..");

/**
 * `git clone` of `from` (this repository by default, or another checkout), whole or at `depth`, into a
 * new temporary directory. Its `node_modules` and `api/node_modules` are this repository's, linked, as
 * `npm ci` would install them (the same lockfiles give the same files): the program type-checks the API
 * modules it shares against the API's dependencies. The image's build context ignores node_modules.
 */
export async function cloneCheckout(depth?: number, from: string = REPO): Promise<string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "adf-webhook-checkout-"));
  await exec("git", ["clone", "--quiet", "--no-local", ...(depth === undefined ? [] : ["--depth", String(depth)]), `file://${from}`, dir]);
  for (const modules of ["node_modules", "api/node_modules"]) fs.symlinkSync(path.join(REPO, modules), path.join(dir, modules));
  return dir;
}

/** Commits every change in a checkout, as its deployer would before sharing it. */
export async function commitAll(checkout: string, message: string): Promise<void> {
  const identity = ["-c", "user.name=e2e", "-c", "user.email=e2e@localhost"];
  await exec("git", ["-C", checkout, "add", "--all", "--", ".", ":!node_modules", ":!api/node_modules"]);
  await exec("git", ["-C", checkout, ...identity, "commit", "--quiet", "--message", message]);
}

export function removeCheckout(checkout: string): void {
  fs.rmSync(checkout, { recursive: true, force: true });
}
