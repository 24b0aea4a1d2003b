/**
 * Checks target containerapps' request bodies against Microsoft's OpenAPI (issue 26): each documented
 * containerapps configuration is run under Pulumi's mocks, the inputs of its managed environment, Container
 * App, user-assigned identity and role assignment become ARM bodies, and validate-arm.mjs judges them.
 *
 *   npm run --silent arm-bodies -- <path to azure-specs/validate-arm.mjs> [--out <directory>]
 *
 * --out writes each body as <configuration>.<resource name>.json. Exits 1 when a body is invalid, or when a
 * resource type was never checked; 2 on a usage error. .ci/run calls it with ../shared's validator.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

import { ARM_RESOURCES, containerAppsArmInputs } from "./arm-bodies.js";

interface ArmProblem {
  path: string;
  message: string;
}

/** What this script uses of validate-arm.mjs (its validate-arm.d.mts, which lives outside this repository). */
interface ArmValidator {
  validateArmBody(spec: string, definition: string, body: unknown): ArmProblem[] & { warnings: ArmProblem[]; apiVersion?: string };
  pulumiInputsToArmBody(spec: string, definition: string, inputs: Record<string, unknown>): { body: Record<string, unknown>; urlParams: string[] };
}

function usage(message: string): never {
  console.error(`${message}\nusage: npm run --silent arm-bodies -- <path to validate-arm.mjs> [--out <directory>]`);
  process.exit(2);
}

async function main(): Promise<number> {
  let parsed: { values: { out?: string }; positionals: string[] };
  try {
    parsed = parseArgs({ options: { out: { type: "string" } }, allowPositionals: true });
  } catch (error) {
    usage(error instanceof Error ? error.message : String(error));
  }
  const { out } = parsed.values;
  const [validatorPath, ...extra] = parsed.positionals;
  if (!validatorPath || extra.length > 0) usage("give the validator's path, and nothing else but --out");
  if (!fs.existsSync(validatorPath)) usage(`${validatorPath} does not exist`);

  // Never fetch ajv from the registry behind the check's back: the project's node_modules hold ajv 8.
  process.env["VALIDATE_ARM_NO_INSTALL"] ??= "1";
  const validator = (await import(pathToFileURL(path.resolve(validatorPath)).href)) as ArmValidator;
  if (out) fs.mkdirSync(out, { recursive: true });

  let invalid = 0;
  const checked = new Set<string>();
  for (const { configuration, resource, name, inputs } of await containerAppsArmInputs()) {
    const { body } = validator.pulumiInputsToArmBody(resource.spec, resource.definition, inputs);
    if (out) fs.writeFileSync(path.join(out, `${configuration}.${name}.json`), `${JSON.stringify(body, null, 2)}\n`);
    const errors = validator.validateArmBody(resource.spec, resource.definition, body);
    const what = `${configuration}: ${name} (${resource.definition}, api-version ${errors.apiVersion ?? "?"})`;
    checked.add(resource.type);
    if (errors.length === 0) {
      console.log(`valid   ${what}${errors.warnings.length > 0 ? `, ${errors.warnings.length} warning(s)` : ""}`);
    } else {
      invalid += 1;
      console.log(`INVALID ${what}`);
    }
    for (const problem of errors) console.log(`  error   ${problem.path}: ${problem.message}`);
    for (const problem of errors.warnings) console.log(`  warning ${problem.path}: ${problem.message}`);
  }
  const unchecked = ARM_RESOURCES.filter(({ type }) => !checked.has(type)).map(({ type }) => type);
  if (unchecked.length > 0) console.log(`NOT CHECKED: no containerapps configuration declares ${unchecked.join(", ")}`);
  console.log(`${checked.size} resource types, ${invalid} invalid body(ies)`);
  return invalid > 0 || unchecked.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
