// What the pipelines' work reads, derived from the tools' own configuration rather than listed by
// hand, so that the path filters can be checked against it (pipelines.test.ts):
// - the Pulumi program: Pulumi.yaml (its `main` and its tsconfig), the stack files, the import graph
//   from the entry point, the lockfile; and the image: the build context that stack/image.ts names;
// - the checks: every file `eslint .` lints (asked of ESLint itself), every file in the tsconfig
//   projects that `npm run typecheck` names, every spec in .mocharc.json with its import graph, and
//   the repository files those read at run time (named as string literals in them).
import * as fs from "node:fs";
import * as path from "node:path";

import { ESLint } from "eslint";
import ts from "typescript";
import { parse } from "yaml";

import { API_CONTEXT, API_DOCKERFILE } from "../../stack/image.js";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");

/** Never part of the repository's content (dependencies, build output, VCS, local state). */
const NOT_CONTENT = new Set(["node_modules", ".git", "dist", "coverage", ".pulumi"]);

/** Every file of the repository, relative to its root, with / separators. */
export function repositoryFiles(dir = ROOT): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (NOT_CONTENT.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...repositoryFiles(full));
    else if (entry.isFile()) out.push(relative(full));
  }
  return out.filter((f) => !f.startsWith("bench/results/"));
}

export const relative = (file: string): string => path.relative(ROOT, file).split(path.sep).join("/");

/** `*` within a segment, `**` across any, as in path filters and .mocharc.json globs. */
function globMatches(glob: string, file: string): boolean {
  const re = glob
    .split(/(\*\*\/?|\*|\?)/)
    .map((part) => (part === "**/" ? "(?:.*/)?" : part === "**" ? ".*" : part === "*" ? "[^/]*" : part === "?" ? "[^/]" : part.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${re}$`).test(file);
}

/** A relative import as TypeScript (NodeNext or bundler style) resolves it to a file of ours. */
function resolveLocal(from: string, specifier: string): string | undefined {
  const base = path.resolve(path.dirname(from), specifier);
  const candidates = [
    base,
    base.replace(/\.js$/, ".ts"),
    base.replace(/\.mjs$/, ".mts"),
    base.replace(/\.cjs$/, ".cts"),
    `${base}.ts`,
    `${base}.tsx`,
    path.join(base, "index.ts"),
  ];
  return candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
}

/** The files of ours that the entry files import, transitively (packages are the lockfile's business). */
export function importClosure(entries: string[]): Set<string> {
  const seen = new Set<string>();
  const queue = entries.map((e) => path.resolve(ROOT, e));
  while (queue.length > 0) {
    const file = queue.pop() as string;
    if (seen.has(file)) continue;
    seen.add(file);
    if (!/\.[cm]?[jt]sx?$/.test(file)) continue;
    const { importedFiles } = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    for (const { fileName } of importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const resolved = resolveLocal(file, fileName);
      if (!resolved) throw new Error(`${relative(file)} imports ${fileName}, which is not a file of the repository`);
      queue.push(resolved);
    }
  }
  return new Set([...seen].map(relative));
}

/** The repository paths a source file names in string literals: what it reads at run time. */
function namedPaths(file: string, existing: Set<string>): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), "utf8");
  const out: string[] = [];
  for (const [, literal] of text.matchAll(/["'`]([\w.@-]+(?:\/[\w.@-]+)*)\/?["'`]/g)) {
    if (literal === "." || literal === "..") continue;
    if (existing.has(literal) || [...existing].some((f) => f.startsWith(`${literal}/`))) out.push(literal);
  }
  return out;
}

/** Expands path prefixes (a folder) to the files under them. */
function filesUnder(prefixes: Iterable<string>, files: string[]): Set<string> {
  const out = new Set<string>();
  for (const prefix of prefixes) for (const f of files) if (f === prefix || f.startsWith(`${prefix}/`)) out.add(f);
  return out;
}

function add(reads: Map<string, string>, files: Iterable<string>, why: string) {
  for (const f of files) if (!reads.has(f)) reads.set(f, why);
}

/** What `pulumi preview` / `pulumi up` read: the project, the program, its dependencies, the image's build context. */
export function programReads(files = repositoryFiles()): Map<string, string> {
  const reads = new Map<string, string>();
  const project = parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as {
    main?: string;
    runtime?: { options?: { tsconfig?: string } };
  };
  add(reads, ["Pulumi.yaml"], "the Pulumi project");
  add(reads, files.filter((f) => /^Pulumi\.[^/]+\.yaml$/.test(f)), "stack configuration");
  const main = project.main ?? ".";
  // Pulumi runs the program in its directory (`main`): paths the program and Pulumi.yaml give are
  // relative to it, unless absolute.
  const fromProgram = (p: string) => relative(path.resolve(ROOT, main, p));
  add(reads, importClosure([path.join(main, "index.ts")]), `the program (${main}) and what it imports`);
  const tsconfig = project.runtime?.options?.tsconfig;
  if (tsconfig) {
    const found = [fromProgram(tsconfig), tsconfig].find((f) => files.includes(f));
    if (!found) throw new Error(`Pulumi.yaml names a tsconfig that does not exist: ${tsconfig}`);
    add(reads, [found], "Pulumi.yaml's tsconfig");
  }
  add(reads, ["package.json", "package-lock.json"].filter((f) => files.includes(f)), "the program's dependencies");
  add(reads, filesUnder([fromProgram(API_CONTEXT)], files), "the image's build context (stack/image.ts)");
  add(reads, [fromProgram(API_DOCKERFILE)], "the image's Dockerfile");
  return reads;
}

/** What the checks read: `npm run lint`, `npm run typecheck`, `npm test`, and `npm ci` before them. */
export async function checkReads(files = repositoryFiles()): Promise<Map<string, string>> {
  const reads = new Map<string, string>();
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  add(reads, files.filter((f) => /(^|\/)package(-lock)?\.json$/.test(f)), "npm ci");

  // lint: `eslint .` with the repository's flat config; ESLint says which files it lints.
  if (!/^eslint \.$/.test(pkg.scripts.lint)) throw new Error(`the lint script changed (${pkg.scripts.lint}): teach this derivation`);
  const eslint = new ESLint({ cwd: ROOT });
  add(reads, ["eslint.config.mjs"], "the ESLint config");
  for (const f of files) {
    if (!/\.[cm]?[jt]s$/.test(f)) continue;
    if ((await eslint.calculateConfigForFile(path.join(ROOT, f))) !== undefined) add(reads, [f], "npm run lint");
  }

  // type-check: every `tsc -p <project>` in the script, with the files each project includes.
  const projects = [...pkg.scripts.typecheck.matchAll(/tsc -p (\S+)/g)].map((m) => m[1]);
  if (projects.length === 0) throw new Error(`the typecheck script changed (${pkg.scripts.typecheck}): teach this derivation`);
  for (const project of projects) {
    const config = ts.readConfigFile(path.join(ROOT, project), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, path.dirname(path.join(ROOT, project)));
    add(reads, [project], "npm run typecheck");
    add(reads, importClosure(parsed.fileNames), `npm run typecheck (${project})`);
  }

  // test: mocha with the spec globs the test script names, and the files .mocharc.json requires; their
  // imports; what those name at run time.
  const testScript = /^mocha((?: "[^"]+")+)$/.exec(pkg.scripts.test);
  if (!testScript) throw new Error(`the test script changed (${pkg.scripts.test}): teach this derivation`);
  const globs = [...testScript[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  const mocharc = JSON.parse(fs.readFileSync(path.join(ROOT, ".mocharc.json"), "utf8")) as { spec?: string | string[]; require?: string | string[] };
  if (mocharc.spec !== undefined) throw new Error(".mocharc.json names a spec again: teach this derivation");
  add(reads, [".mocharc.json"], "mocha's configuration");
  const specs = files.filter((f) => globs.some((g) => globMatches(g, f)));
  const tested = importClosure([...specs, ...([] as string[]).concat(mocharc.require ?? [])]);
  add(reads, tested, "npm test");
  const existing = new Set(files);
  for (const f of tested) {
    // The pipelines' own test names paths as examples of changes, not as files it reads; what it
    // reads (azure-pipelines/) is its own folder.
    if (f === "azure-pipelines/pipelines.test.ts") continue;
    add(reads, filesUnder(namedPaths(f, existing), files), `read at run time by ${f}`);
  }
  return reads;
}
