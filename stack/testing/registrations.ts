/**
 * What a run under the mocks tells the engine, in a form that can be compared across versions of the
 * program: every resource (type, name, parent, provider, every resource option, inputs, which inputs are
 * secret), every invoke, the requests to Azure's REST endpoints and the stack outputs. Resources are sorted
 * by type and name, and invokes and requests are a sorted set: the order the program registers them in is
 * its own business (the engine orders by dependencies), and so is asking Azure the same thing twice.
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import { canonicalJson } from "./canonical-json.js";
import { UNKNOWN, unwrapSecrets, type Run } from "./harness.js";

/** Where the golden files are. */
export const GOLDEN_DIRECTORY = path.join(import.meta.dirname, "fixtures", "registrations");

/** Set to record the golden files from the program as it is, instead of comparing with them. */
export const RECORD_VARIABLE = "RECORD_REGISTRATIONS";

/** Plain JSON: an unknown (a preview) as "<unknown>", undefined as null. */
function plain(value: unknown): unknown {
  if (value === UNKNOWN) return "<unknown>";
  if (value === undefined) return null;
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === "object" && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  return value;
}

/** Unset options (false, "", none, empty) left out, so a golden file shows the options that are set. */
function setOptions(options: Record<string, unknown>): Record<string, unknown> {
  const isSet = (value: unknown) =>
    value !== undefined && value !== null && value !== false && value !== "" && !(Array.isArray(value) && value.length === 0) && !(typeof value === "object" && !Array.isArray(value) && Object.keys(value as object).length === 0);
  return Object.fromEntries(Object.entries(options).filter(([, value]) => isSet(value)));
}

const sortedSet = (items: unknown[]): unknown[] => [...new Set(items.map((item) => canonicalJson(plain(item))))].sort().map((text) => JSON.parse(text) as unknown);
const byKey = <T extends { type: string; name: string }>(a: T, b: T) => `${a.type}::${a.name}`.localeCompare(`${b.type}::${b.name}`);

/** The run, normalized. */
export function normalizedRegistrations(run: Run): unknown {
  return plain({
    preview: run.preview,
    resources: [...run.resources].sort(byKey).map((r) => ({
      type: r.type,
      name: r.name,
      parent: r.options.parent,
      provider: r.provider ?? "",
      options: setOptions({
        ...r.options,
        parent: undefined,
        dependencies: [...new Set(r.options.dependencies)].sort(),
        propertyDependencies: Object.fromEntries(
          Object.entries(r.options.propertyDependencies)
            .sort(([a], [b]) => a.localeCompare(b))
            .filter(([, urns]) => urns.length > 0)
            .map(([key, urns]) => [key, [...new Set(urns)].sort()]),
        ),
      }),
      inputs: r.inputs,
      secretPaths: [...r.secretPaths].sort(),
    })),
    invokes: sortedSet(run.calls.map((call) => ({ token: call.token, inputs: unwrapSecrets(call.inputs), provider: call.provider ?? "" }))),
    azureRequests: sortedSet(run.azureRequests),
    outputs: run.outputs,
    secretOutputs: [...run.secretOutputs].sort(),
  });
}

/**
 * Compares the run with its golden file, or records the file when RECORD_REGISTRATIONS is set. A
 * difference fails with the first differing lines of both, so the change shows where it is.
 */
export function assertMatchesGolden(file: string, run: Run): void {
  const actual = `${canonicalJson(normalizedRegistrations(run), 2)}\n`;
  const golden = path.join(GOLDEN_DIRECTORY, file);
  if (process.env[RECORD_VARIABLE]) {
    fs.mkdirSync(GOLDEN_DIRECTORY, { recursive: true });
    fs.writeFileSync(golden, actual);
    return;
  }
  assert.ok(fs.existsSync(golden), `${file} has no golden file: record it with ${RECORD_VARIABLE}=1 (from the program as it was before the change)`);
  const expected = fs.readFileSync(golden, "utf8");
  if (actual === expected) return;
  assert.deepEqual(JSON.parse(actual), JSON.parse(expected), `${file}: the program registers something else than it did`);
  assert.equal(actual, expected, `${file}: the same values, written differently`);
}
