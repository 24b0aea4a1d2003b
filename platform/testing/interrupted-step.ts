/**
 * A step of `up` to interrupt (interrupts.test.ts): it makes a temporary directory, prints its path and
 * runs a command that takes a while in it; when that fails, it undoes what it did (for 300 ms, as `up`
 * stops its parts) and says so.
 */
import * as fs from "node:fs";
import * as path from "node:path";

import { makeTempDir, removeTempDir, trapInterrupts, withoutInterrupts } from "../interrupts.js";
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
  await withoutInterrupts(() => new Promise((resolve) => setTimeout(resolve, 300)));
  process.stderr.write("undone\n");
} finally {
  removeTempDir(dir);
}
