import * as assert from "node:assert/strict";
import * as fs from "node:fs";

import { documentedConfigurations } from "./testing/configurations.js";
import { run } from "./testing/harness.js";
import { assertMatchesGolden, GOLDEN_DIRECTORY } from "./testing/registrations.js";

/**
 * A refactoring changes nothing a user relies on: for each documented configuration the program registers
 * exactly the resources, inputs, options and secrets, calls exactly the invokes and exports exactly the
 * outputs recorded in stack/testing/fixtures/registrations/ (from the program before the change; record
 * them again, with RECORD_REGISTRATIONS=1, only for a change that is meant to show).
 */
describe("the program's registrations for every documented configuration (golden files)", function () {
  this.timeout(60_000);

  const configurations = documentedConfigurations();
  for (const { name, values, secrets, preview } of configurations) {
    it(`${name}: the same as recorded`, async () => {
      assertMatchesGolden(`${name}.json`, await run(values, secrets));
      if (preview) assertMatchesGolden(`${name}.preview.json`, await run(values, secrets, { preview: true }));
    });
  }

  it("has a golden file for each configuration and no other", () => {
    const expected = configurations.flatMap(({ name, preview }) => [`${name}.json`, ...(preview ? [`${name}.preview.json`] : [])]);
    assert.deepEqual(fs.readdirSync(GOLDEN_DIRECTORY).sort(), expected.sort());
  });
});
