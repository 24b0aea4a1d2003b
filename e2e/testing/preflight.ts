/**
 * Mocha's global setup for `npm run e2e`: the scenarios drive Pulumi's own CLI, so where `pulumi` is not
 * on PATH the run stops here, at once, saying how to get it.
 */
import { PULUMI_MISSING, pulumiOnPath } from "./pulumi.js";

export function mochaGlobalSetup(): void {
  if (pulumiOnPath() === undefined) {
    process.stderr.write(`npm run e2e: ${PULUMI_MISSING}\n`);
    process.exit(1);
  }
}
