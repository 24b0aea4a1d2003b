/**
 * Runs the program under mocks in this process the way Pulumi's Node runtime runs it: a rejection
 * nothing handles ends the program with that error (sdk/nodejs/cmd/run/run.ts installs the same
 * `unhandledRejection` handler, logs the error and fails the update or preview). Prints
 * `{ error, registered }` as JSON (error undefined when the program finished). The configuration comes from RUN_CONFIG:
 * `{ values, secrets, options }`.
 */
import { registrationsSoFar, run, type RunOptions } from "./harness.js";

const { values, secrets, options } = JSON.parse(process.env["RUN_CONFIG"] ?? "{}") as {
  values: Record<string, string>;
  secrets?: Record<string, string>;
  options?: RunOptions;
};

function finish(error: string | undefined): never {
  const registered = registrationsSoFar().map((r) => r.type);
  process.stdout.write(JSON.stringify({ error, registered }));
  process.exitCode = error === undefined ? 0 : 1;
  process.exit();
}

process.on("unhandledRejection", (reason) => finish(reason instanceof Error ? reason.message : String(reason)));
run(values, secrets, options).then(
  () => finish(undefined),
  (error: unknown) => finish(error instanceof Error ? error.message : String(error)),
);
