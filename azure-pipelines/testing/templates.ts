// The Azure Pipelines YAML read as Azure DevOps reads it, for the pipelines' tests
// (pipelines.test.ts): a file is parsed, the templates it uses are expanded with their parameters
// (compile-time `${{ }}` expressions and if / elseif / else insertion included), and a runtime
// condition can be evaluated against variables and the dependencies' outcome.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";

import { parse } from "yaml";

import { ROOT } from "./reads.js";

/** The folder of the pipelines and their templates. */
export const PIPELINES = path.resolve(import.meta.dirname, "..");

export type Yaml = string | number | boolean | null | Yaml[] | { [key: string]: Yaml };
export type Mapping = { [key: string]: Yaml };

export const isMapping = (v: unknown): v is Mapping => typeof v === "object" && v !== null && !Array.isArray(v);

export function load(file: string): Mapping {
  const doc: unknown = parse(fs.readFileSync(file, "utf8"));
  assert.ok(isMapping(doc), `${file} is not a YAML mapping`);
  return doc;
}

// --- compile-time expressions -------------------------------------------------------------------

/**
 * What a runtime condition sees: the pipeline's variables and whether the stages or jobs it depends
 * on succeeded. Without it, only compile-time expressions (parameters) can be evaluated.
 */
export interface Runtime {
  variables: Record<string, string>;
  dependenciesSucceeded: boolean;
}

/** Evaluates the subset of template expressions (and, given a runtime, of conditions) these pipelines use. */
export function evaluate(source: string, parameters: Mapping, runtime?: Runtime): Yaml {
  let at = 0;
  const fail = (why: string): never => {
    throw new Error(`expression "${source}": ${why} at ${at}`);
  };
  const space = () => {
    while (/\s/.test(source[at] ?? "")) at++;
  };
  const truthy = (v: Yaml): boolean => !(v === false || v === null || v === "" || v === 0 || (typeof v === "string" && v.toLowerCase() === "false"));
  const text = (v: Yaml): string => (typeof v === "boolean" ? (v ? "True" : "False") : typeof v === "string" ? v : JSON.stringify(v));
  const same = (a: Yaml, b: Yaml) => text(a).toLowerCase() === text(b).toLowerCase();
  const functions: Record<string, (args: Yaml[]) => Yaml> = {
    eq: ([a, b]) => same(a, b),
    ne: ([a, b]) => !same(a, b),
    and: (args) => args.every(truthy),
    or: (args) => args.some(truthy),
    not: ([a]) => !truthy(a),
    startsWith: ([a, b]) => text(a).toLowerCase().startsWith(text(b).toLowerCase()),
    contains: ([a, b]) => text(a).toLowerCase().includes(text(b).toLowerCase()),
    format: ([f, ...args]) => text(f).replace(/\{(\d+)\}/g, (_, i: string) => text(args[Number(i)] ?? "")),
    succeeded: () => runtime?.dependenciesSucceeded ?? fail("succeeded() is a runtime function"),
    failed: () => !(runtime?.dependenciesSucceeded ?? fail("failed() is a runtime function")),
    always: () => true,
  };
  const value = (): Yaml => {
    space();
    if (source[at] === "'") {
      let out = "";
      at++;
      for (;;) {
        if (at >= source.length) fail("unterminated string");
        if (source[at] === "'" && source[at + 1] === "'") {
          out += "'";
          at += 2;
        } else if (source[at] === "'") break;
        else out += source[at++];
      }
      at++;
      return out;
    }
    const word = /^[A-Za-z_][\w.-]*/.exec(source.slice(at))?.[0] ?? fail("expected a value");
    at += word.length;
    space();
    if (source[at] === "(") {
      at++;
      const args: Yaml[] = [];
      space();
      while (source[at] !== ")") {
        args.push(value());
        space();
        if (source[at] === ",") at++;
        else if (source[at] !== ")") fail("expected , or )");
      }
      at++;
      const fn = functions[word] ?? fail(`unknown function ${word}`);
      return fn(args);
    }
    if (/^true$/i.test(word)) return true;
    if (/^false$/i.test(word)) return false;
    if (word === "variables" && source[at] === "[") {
      if (!runtime) fail("variables are only known at runtime");
      at++;
      const name = value();
      space();
      if (source[at] !== "]") fail("expected ]");
      at++;
      return runtime?.variables[String(name)] ?? "";
    }
    const [scope, ...keys] = word.split(".");
    if (scope !== "parameters") fail(`only parameters are known at compile time, not ${word}`);
    let v: Yaml = parameters;
    for (const k of keys) {
      if (!isMapping(v) || !(k in v)) fail(`no parameter ${word}`);
      v = (v as Mapping)[k];
    }
    return v;
  };
  const result = value();
  space();
  if (at !== source.length) fail("trailing text");
  return result;
}

const EXPRESSION = /\$\{\{(.*?)\}\}/g;

function interpolate(s: string, parameters: Mapping): Yaml {
  const whole = /^\$\{\{(.*)\}\}$/s.exec(s.trim());
  if (whole && !whole[1].includes("}}")) return evaluate(whole[1].trim(), parameters);
  return s.replace(EXPRESSION, (_, e: string) => {
    const v = evaluate(e.trim(), parameters);
    return typeof v === "boolean" ? (v ? "True" : "False") : typeof v === "string" ? v : JSON.stringify(v);
  });
}

// --- templates --------------------------------------------------------------------------------

interface Declared {
  name: string;
  type?: string;
  default?: Yaml;
  values?: string[];
}

/** Binds what a caller passes to what a template declares, as Azure DevOps does (or fails as it would). */
export function bind(file: string, declared: Yaml | undefined, passed: Mapping): Mapping {
  const list = (Array.isArray(declared) ? declared : []) as unknown as Declared[];
  const bound: Mapping = {};
  for (const key of Object.keys(passed)) {
    if (!list.some((p) => p.name === key)) throw new Error(`${file}: unexpected parameter ${key}`);
  }
  for (const p of list) {
    const v = p.name in passed ? passed[p.name] : p.default;
    if (v === undefined) throw new Error(`${file}: a value for parameter ${p.name} must be provided`);
    if (p.values && !p.values.includes(String(v))) throw new Error(`${file}: ${p.name} must be one of ${p.values.join(", ")}, not ${String(v)}`);
    if (p.type === "boolean" && typeof v !== "boolean" && !/^(true|false)$/i.test(String(v))) throw new Error(`${file}: ${p.name} must be a boolean`);
    bound[p.name] = p.type === "boolean" ? /^true$/i.test(String(v)) : v;
  }
  return bound;
}

/** Where an if / elseif / else chain stands: none open, open with nothing taken yet, or taken. */
type Chain = "none" | "open" | "taken";

function nextChain(kind: string, take: boolean, before: Chain): Chain {
  if (kind === "else") return "none";
  return take || before === "taken" ? "taken" : "open";
}

const DIRECTIVE = /^\$\{\{\s*(if|elseif|else)\b(.*)\}\}$/s;

/** Expands one node of a template: expressions, conditional insertion and template references. */
export function expand(node: Yaml, parameters: Mapping, file: string, used: Set<string>): Yaml {
  if (typeof node === "string") return interpolate(node, parameters);
  if (Array.isArray(node)) {
    const out: Yaml[] = [];
    let chain: Chain = "none";
    for (const item of node) {
      const keys = isMapping(item) ? Object.keys(item) : [];
      const directive = keys.length === 1 ? DIRECTIVE.exec(keys[0]) : null;
      if (isMapping(item) && directive) {
        const [, kind, condition] = directive;
        const before: Chain = kind === "if" ? "open" : chain;
        if (before === "none") throw new Error(`${file}: ${kind} without an if before it`);
        const take: boolean = before === "open" && (kind === "else" || Boolean(evaluate(condition.trim(), parameters)));
        chain = nextChain(kind, take, before);
        if (take) {
          const inserted = expand(item[keys[0]], parameters, file, used);
          out.push(...(Array.isArray(inserted) ? inserted : [inserted]));
        }
        continue;
      }
      chain = "none";
      if (isMapping(item) && typeof item.template === "string") {
        out.push(...include(item, parameters, file, used));
        continue;
      }
      out.push(expand(item, parameters, file, used));
    }
    return out;
  }
  if (isMapping(node)) {
    const out: Mapping = {};
    let chain: Chain = "none";
    for (const [key, value] of Object.entries(node)) {
      const directive = DIRECTIVE.exec(key);
      if (directive) {
        const [, kind, condition] = directive;
        const before: Chain = kind === "if" ? "open" : chain;
        if (before === "none") throw new Error(`${file}: ${kind} without an if before it`);
        const take: boolean = before === "open" && (kind === "else" || Boolean(evaluate(condition.trim(), parameters)));
        chain = nextChain(kind, take, before);
        if (take) Object.assign(out, expand(value, parameters, file, used));
        continue;
      }
      chain = "none";
      out[String(interpolate(key, parameters))] = expand(value, parameters, file, used);
    }
    return out;
  }
  return node;
}

/** A `- template:` item: its steps, jobs or stages, expanded with the parameters it is given. */
function include(item: Mapping, parameters: Mapping, from: string, used: Set<string>): Yaml[] {
  const file = path.resolve(path.dirname(from), String(interpolate(String(item.template), parameters)));
  assert.ok(fs.existsSync(file), `${path.relative(ROOT, from)} uses a template that does not exist: ${path.relative(ROOT, file)}`);
  used.add(file);
  const passed = expand(item.parameters ?? {}, parameters, from, used);
  assert.ok(isMapping(passed));
  const template = load(file);
  const bound = bind(path.relative(ROOT, file), template.parameters, passed);
  const kinds = ["steps", "jobs", "stages"].filter((k) => k in template);
  assert.equal(kinds.length, 1, `${file} must hold exactly one of steps, jobs, stages`);
  const body = expand(template[kinds[0]], bound, file, used);
  assert.ok(Array.isArray(body));
  return body;
}

export interface Pipeline {
  file: string;
  raw: Mapping;
  /** The pipeline as it runs: extends resolved, templates expanded, runtime parameters at their defaults. */
  expanded: Mapping;
  templates: Set<string>;
}

/** A pipeline or template body without its parameter declarations. */
function withoutParameters(doc: Mapping): Mapping {
  return Object.fromEntries(Object.entries(doc).filter(([key]) => key !== "parameters"));
}

/** A pipeline as a run expands it, with the runtime parameters someone queueing it by hand may give. */
export function pipeline(name: string, given: Mapping = {}): Pipeline {
  const file = path.resolve(PIPELINES, name);
  const raw = load(file);
  const used = new Set<string>();
  const parameters = bind(name, raw.parameters, given);
  let expanded: Mapping;
  if (isMapping(raw.extends)) {
    const target = path.resolve(PIPELINES, String(raw.extends.template));
    used.add(target);
    const template = load(target);
    const passed = expand(raw.extends.parameters ?? {}, parameters, file, used);
    assert.ok(isMapping(passed));
    const bound = bind(path.relative(ROOT, target), template.parameters, passed);
    const result = expand(withoutParameters(template), bound, target, used);
    assert.ok(isMapping(result));
    expanded = result;
  } else {
    const result = expand(withoutParameters(raw), parameters, file, used);
    assert.ok(isMapping(result));
    expanded = result;
  }
  return { file, raw, expanded, templates: used };
}

