import * as assert from "node:assert/strict";
import * as path from "node:path";

import { LOAD_LIKE_PULUMI, programDirectory, readProject, runNode } from "./testing/engine.js";

const ROOT = path.resolve(import.meta.dirname, "..");

/**
 * The tests load the program through tsx, which forgives more than what `pulumi up` uses: this loads it
 * with the SDK's own ESM hooks, as the engine does (see LOAD_LIKE_PULUMI). Type-checking is `npm run
 * typecheck`'s job (same tsconfig); the e2e runs the real engine.
 */
describe("the program loads as Pulumi loads it (ES modules, ts-node's ESM hooks)", function () {
  this.timeout(180_000); // ts-node compiles the program and its imports (about 15 s of CPU)

  it("imports stack/program.ts and the API modules it shares", async () => {
    const tsconfig = String(readProject(ROOT).runtime.options?.tsconfig);
    const stdout = await runNode(["--input-type=module", "-e", LOAD_LIKE_PULUMI], programDirectory(ROOT), { PULUMI_NODEJS_TSCONFIG_PATH: tsconfig });
    // The API's schema read the stack's key: 512 KiB, in bytes.
    assert.deepEqual(JSON.parse(stdout), { runStack: "function", bodyLimit: 512 * 1024 });
  });
});
