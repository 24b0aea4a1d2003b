/**
 * A step of `up` to interrupt (interrupts.test.ts): it makes a temporary directory, prints its path,
 * runs a command that takes a while in it, and would remove the directory only once that command ends.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { makeTempDir, removeTempDir, trapInterrupts } from "../interrupts.js";
import { run } from "../processes.js";

trapInterrupts((line) => process.stderr.write(`${line}\n`));
const dir = makeTempDir("interrupted-step-");
fs.writeFileSync(path.join(dir, "partial-build"), "");
try {
  const child = run("sleep", ["30"], { cwd: dir });
  process.stdout.write(`${dir}\n`);
  await child;
} catch (error) {
  process.stderr.write(`step failed: ${(error as Error).message.split("\n")[0]}\n`);
} finally {
  removeTempDir(dir);
}
