/**
 * What the mocked tests predict (stack/testing/harness.ts: the program under Pulumi's mocks) set against
 * what the engine did, for the same configuration: the resources, their Kubernetes names, the inputs that
 * are secrets, the stack outputs, what a preview does not know yet, and what a change updates or
 * replaces. Each function returns the differences as sentences; a scenario asserts there are none.
 */
import { run as runMocked, UNKNOWN, type Registration, type Run } from "../../stack/testing/harness.js";
import { SECRET_SIG, SECRET_SIG_KEY, UNKNOWN_SENTINEL, type PreviewDigest, type StackExport, type StateResource } from "./pulumi.js";

export type { Run };

/** The program under the mocks for a stack's settings, the image at the digest the registry served. */
export function predict(values: Record<string, string>, secrets: Record<string, string>, options: { digest?: string; preview?: boolean } = {}): Promise<Run> {
  return runMocked(values, secrets, { imageDigest: options.digest, preview: options.preview });
}

/** `type::name`, what a URN and a mocked registration have in common (the URN adds its parents' types). */
export function urnKey(urn: string): string {
  const [, , qualifiedType = "", ...name] = urn.split("::");
  return `${qualifiedType.split("$").pop()}::${name.join("::")}`;
}

const keyOf = (r: Registration) => `${r.type}::${r.name}`;

/**
 * The engine's own resources, which no program registers and so no mock sees: the stack itself and the
 * default provider of a package used without an explicit one (`docker.Image` here).
 */
export function engineOnly(key: string): boolean {
  const [type = "", name = ""] = key.split("::");
  return type === "pulumi:pulumi:Stack" || (type.startsWith("pulumi:providers:") && name.startsWith("default"));
}

function byKey(resources: StateResource[]): Map<string, StateResource> {
  return new Map(resources.filter((r) => !engineOnly(urnKey(r.urn))).map((r) => [urnKey(r.urn), r]));
}

/** The resources: the same `type::name` on both sides. */
export function compareResources(mocked: Run, state: StackExport): string[] {
  const engine = byKey(state.deployment.resources ?? []);
  const predicted = new Set(mocked.resources.map(keyOf));
  return [
    ...[...predicted].filter((k) => !engine.has(k)).map((k) => `${k}: predicted by the mocks, absent from the engine's state`),
    ...[...engine.keys()].filter((k) => !predicted.has(k)).map((k) => `${k}: in the engine's state, not predicted by the mocks`),
  ];
}

/**
 * The Kubernetes objects' names: a declared name is the same on both sides; an object declared without
 * one gets `<resource name>-<8 characters>` on both (the suffix is random in the engine, a hash of the
 * inputs in the mocks, so only its shape is compared).
 */
export function compareNames(mocked: Run, state: StackExport): string[] {
  const engine = byKey(state.deployment.resources ?? []);
  const differences: string[] = [];
  for (const r of mocked.resources.filter((x) => x.type.startsWith("kubernetes:"))) {
    const live = engine.get(keyOf(r));
    if (!live) continue;
    const declared = (r.inputs.metadata as { name?: string } | undefined)?.name;
    const predictedName = (r.state.metadata as { name?: string } | undefined)?.name;
    const actual = (live.outputs?.metadata as { name?: string } | undefined)?.name;
    const autoName = new RegExp(`^${r.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-[0-9a-z]{8}$`);
    const agree = declared !== undefined ? predictedName === actual : autoName.test(String(predictedName)) && autoName.test(String(actual));
    if (!agree) differences.push(`${keyOf(r)}: the mocks name it ${predictedName}, the engine ${actual}`);
  }
  return differences;
}

/** Each leaf of `value` with its path (keys and indexes: Kubernetes keys hold dots). */
function leaves(value: unknown, at: (string | number)[] = [], found: [(string | number)[], unknown][] = []): [(string | number)[], unknown][] {
  if (Array.isArray(value) && value.length > 0) value.forEach((item, i) => leaves(item, [...at, i], found));
  else if (typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [k, v] of Object.entries(value)) leaves(v, [...at, k], found);
  } else found.push([at, value]);
  return found;
}

/** The value at a path, or the first secret on the way there (its content is encrypted). */
function valueAt(value: unknown, path: (string | number)[]): unknown {
  let here = value;
  for (const part of path) {
    if (isEngineSecret(here) || typeof here !== "object" || here === null) return here;
    here = (here as Record<string | number, unknown>)[part];
  }
  return here;
}

/**
 * The resources' states: every value the mocks' state holds (their stand-in for a provider's outputs)
 * is in the engine's, except where the engine's is a secret (encrypted: not comparable). Names the
 * kubernetes provider chose are compared by their shape (`<name>-<8 characters>`) wherever they appear.
 */
export function compareStates(mocked: Run, state: StackExport): string[] {
  const engine = byKey(state.deployment.resources ?? []);
  const autoNamedPrefixes = mocked.resources.filter(autoNamed).map((r) => r.name);
  const shape = (v: unknown) =>
    typeof v === "string" ? autoNamedPrefixes.reduce((s, prefix) => s.replace(new RegExp(`^${prefix}-[0-9a-z]{8}$`), `${prefix}-********`), v) : v;
  const differences: string[] = [];
  for (const r of mocked.resources) {
    const live = engine.get(keyOf(r));
    if (!live) continue;
    for (const [path, value] of leaves(r.state)) {
      if (path.length === 0) continue; // an empty state (a component's) claims nothing
      const actual = valueAt(live.outputs ?? {}, path);
      if (isEngineSecret(actual)) continue;
      if (JSON.stringify(shape(value)) !== JSON.stringify(shape(actual))) {
        differences.push(`${keyOf(r)}: state ${JSON.stringify(path)} is ${JSON.stringify(value)} in the mocks, ${JSON.stringify(actual)} in the engine's`);
      }
    }
  }
  return differences;
}

/** Dotted paths (`a.b[0]`) of the values in `value` for which `test` holds, not looking inside them. */
export function pathsWhere(value: unknown, test: (v: unknown) => boolean, at = "", found: string[] = []): string[] {
  if (test(value)) {
    found.push(at);
    return found;
  }
  if (Array.isArray(value)) value.forEach((item, i) => pathsWhere(item, test, `${at}[${i}]`, found));
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) pathsWhere(v, test, at ? `${at}.${k}` : k, found);
  }
  return found;
}

const isEngineSecret = (v: unknown) => typeof v === "object" && v !== null && (v as Record<string, unknown>)[SECRET_SIG_KEY] === SECRET_SIG;

/** The inputs that are secrets: where the mocks say the engine stores them, against its encrypted values in the state. */
export function compareSecretPaths(mocked: Run, state: StackExport): string[] {
  const engine = byKey(state.deployment.resources ?? []);
  const differences: string[] = [];
  for (const r of mocked.resources) {
    const live = engine.get(keyOf(r));
    if (!live) continue;
    const actual = pathsWhere(live.inputs ?? {}, isEngineSecret).sort();
    const predicted = [...r.storedSecretPaths].sort();
    if (JSON.stringify(actual) !== JSON.stringify(predicted)) {
      differences.push(`${keyOf(r)}: secret inputs ${JSON.stringify(predicted)} in the mocks, ${JSON.stringify(actual)} in the engine's state`);
    }
  }
  return differences;
}

/** The stack outputs: `pulumi stack output --json` (a secret shows as "[secret]") against the mocks' outputs. */
export function compareOutputs(mocked: Run, outputs: Record<string, unknown>): string[] {
  const predicted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(mocked.outputs)) {
    if (value !== undefined) predicted[key] = mocked.secretOutputs.includes(key) ? "[secret]" : value;
  }
  const keys = [...new Set([...Object.keys(predicted), ...Object.keys(outputs)])].sort();
  return keys
    .filter((k) => JSON.stringify(predicted[k]) !== JSON.stringify(outputs[k]))
    .map((k) => `output ${k}: ${JSON.stringify(predicted[k])} in the mocks, ${JSON.stringify(outputs[k])} from the engine`);
}

/**
 * What a first preview does not know: for every resource the preview creates, the input paths that are
 * unknown, in the mocks' preview (`preview: true`) and in `pulumi preview --json`.
 */
export function comparePreviewUnknowns(mocked: Run, digest: PreviewDigest): string[] {
  const steps = new Map((digest.steps ?? []).filter((s) => s.newState).map((s) => [urnKey(s.urn), s]));
  const differences: string[] = [];
  for (const r of mocked.resources) {
    const step = steps.get(keyOf(r));
    if (!step) continue;
    const predicted = pathsWhere(r.inputs, (v) => v === UNKNOWN).sort();
    const actual = pathsWhere(step.newState?.inputs ?? {}, (v) => v === UNKNOWN_SENTINEL).sort();
    if (JSON.stringify(predicted) !== JSON.stringify(actual)) {
      differences.push(`${keyOf(r)}: unknown in a preview ${JSON.stringify(predicted)} by the mocks, ${JSON.stringify(actual)} by the engine`);
    }
  }
  return differences;
}

/** One resource's operation, in the words both sides share. */
export type Operation = "create" | "update" | "replace" | "delete" | "same";

function withoutPaths(inputs: Record<string, unknown>, paths: string[]): Record<string, unknown> {
  const copy = structuredClone(inputs);
  for (const dotted of paths) {
    const parts = dotted.split(".");
    let at: Record<string, unknown> | undefined = copy;
    for (const part of parts.slice(0, -1)) at = at?.[part] as Record<string, unknown> | undefined;
    if (at) delete at[parts[parts.length - 1]!];
  }
  return copy;
}

const autoNamed = (r: Registration) => r.type.startsWith("kubernetes:") && (r.inputs.metadata as { name?: string } | undefined)?.name === undefined;

/**
 * What the mocks predict a change from `before` to `after` does to each resource: created, deleted,
 * replaced (an object without a declared name whose inputs changed gets a new name: Pulumi replaces it),
 * updated (its inputs changed, `ignoreChanges` aside) or the same. `buildContextChanged` says the
 * image's build context changed: the docker provider sees that through its `contextDigest`, which it
 * computes from the files and which the mocks do not have.
 */
export function predictedOperations(before: Run, after: Run, options: { buildContextChanged?: boolean } = {}): Map<string, Operation> {
  const old = new Map(before.resources.map((r) => [keyOf(r), r]));
  const operations = new Map<string, Operation>();
  for (const r of after.resources) {
    const previous = old.get(keyOf(r));
    let op: Operation;
    if (!previous) op = "create";
    else if (autoNamed(r) && JSON.stringify(previous.inputs) !== JSON.stringify(r.inputs)) op = "replace";
    else if (JSON.stringify(withoutPaths(previous.inputs, r.options.ignoreChanges)) !== JSON.stringify(withoutPaths(r.inputs, r.options.ignoreChanges))) op = "update";
    else op = "same";
    if (r.type === "docker:index/image:Image" && op === "same" && options.buildContextChanged) op = "update";
    operations.set(keyOf(r), op);
  }
  for (const key of old.keys()) if (!operations.has(key)) operations.set(key, "delete");
  return operations;
}

/** What `pulumi preview --json` says the engine would do to each resource it changes (it lists no unchanged one). */
export function previewOperations(digest: PreviewDigest): Map<string, Operation> {
  const operations = new Map<string, Operation>();
  for (const step of digest.steps ?? []) {
    const key = urnKey(step.urn);
    if (engineOnly(key)) continue;
    const op = step.op === "create-replacement" || step.op === "delete-replaced" || step.op === "replace" ? "replace" : step.op;
    operations.set(key, op as Operation);
  }
  return operations;
}

/** The operations on both sides, resource by resource (a resource the preview does not list is the same). */
export function compareOperations(predicted: Map<string, Operation>, actual: Map<string, Operation>): string[] {
  const keys = [...new Set([...predicted.keys(), ...actual.keys()])].sort();
  return keys
    .filter((k) => (predicted.get(k) ?? "absent") !== (actual.get(k) ?? "same"))
    .map((k) => `${k}: ${predicted.get(k) ?? "absent"} in the mocks, ${actual.get(k) ?? "same"} in the engine's preview`);
}

/** The mocks' prediction for a first deploy: every resource created. */
export function allCreated(mocked: Run): Map<string, Operation> {
  return new Map(mocked.resources.map((r) => [keyOf(r), "create" as Operation]));
}

/** `<repository>@sha256:...` -> `sha256:...`. */
export function digestOf(imageRef: unknown): string {
  const digest = String(imageRef).split("@")[1];
  if (!digest) throw new Error(`not an image by digest: ${String(imageRef)}`);
  return digest;
}

/** Every difference between the mocks and a deployed stack: resources, names, secret inputs, states, outputs. */
export function compareDeployed(mocked: Run, state: StackExport, outputs: Record<string, unknown>): string[] {
  return [...compareResources(mocked, state), ...compareNames(mocked, state), ...compareSecretPaths(mocked, state), ...compareStates(mocked, state), ...compareOutputs(mocked, outputs)];
}
