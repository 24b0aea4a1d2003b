/**
 * The README and the guides in docs/ stay navigable: every relative link and #anchor resolves, and
 * docs/api.md's settings table lists exactly the environment variables api/src/config.ts reads.
 * Anchors follow GitHub's rules (github-slugger), so a link that passes here works on GitHub.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");

/** The Markdown files whose links are checked: the front door and every guide. */
function checkedFiles(): string[] {
  const guides = fs
    .readdirSync(path.join(ROOT, "docs"), { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".md"))
    .map((file) => path.join("docs", file));
  return ["README.md", ...guides.sort()];
}

/** The text with fenced code blocks blanked (line numbers kept): nothing in them is a link or a heading. */
function withoutFences(markdown: string): string {
  let fence: { char: string; length: number } | undefined;
  return markdown
    .split("\n")
    .map((line) => {
      const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
      if (fence) {
        if (marker && marker[0] === fence.char && marker.length >= fence.length && line.trim() === marker) fence = undefined;
        return "";
      }
      if (marker) {
        fence = { char: marker[0], length: marker.length };
        return "";
      }
      return line;
    })
    .join("\n");
}

const CODE_SPAN = /(`+)(?!`)([\s\S]*?[^`])\1(?!`)/g;

/** A heading's text as GitHub renders it: code spans keep their content, links their text, emphasis goes. */
function headingText(source: string): string {
  return source
    .split(CODE_SPAN)
    .map((part, index) => {
      // split() with two groups yields [text, ticks, code, text, ticks, code, ...].
      if (index % 3 === 1) return "";
      if (index % 3 === 2) return part.trim() === "" ? part : part.replace(/^ (.*) $/, "$1");
      return part
        .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
        .replace(/<[^>]+>/g, "")
        .replace(/(^|[^\p{L}\p{N}])(_{1,2})(?=\S)(.*?\S)\2(?=[^\p{L}\p{N}]|$)/gu, "$1$3")
        .replace(/\\(.)/g, "$1");
    })
    .join("");
}

/** GitHub's anchor for a heading (github-slugger): lower case, punctuation dropped but `-` and `_`, spaces to `-`. */
export function slug(heading: string): string {
  return headingText(heading)
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** Every anchor a Markdown file offers: its headings (repeats get -1, -2, ...) and explicit HTML ids. */
export function anchorsOf(markdown: string): Set<string> {
  const text = withoutFences(markdown);
  const anchors = new Set<string>();
  for (const line of text.split("\n")) {
    const heading = /^ {0,3}#{1,6}(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/.exec(line);
    if (heading) {
      const base = slug(heading[1] ?? "");
      let anchor = base;
      for (let n = 1; anchors.has(anchor); n++) anchor = `${base}-${n}`;
      anchors.add(anchor);
    }
    for (const html of line.matchAll(/<[a-z][^>]*\s(?:id|name)="([^"]+)"/gi)) anchors.add(html[1]);
  }
  return anchors;
}

interface Link {
  line: number;
  target: string;
}

/** Inline links and images, reference definitions and HTML href/src, outside code. */
export function linksOf(markdown: string): Link[] {
  const text = withoutFences(markdown).replace(CODE_SPAN, (span) => span.replace(/[^\n]/g, " "));
  const lineAt = (offset: number) => text.slice(0, offset).split("\n").length;
  const links: Link[] = [];
  const patterns = [
    /\[(?:[^[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^\s()]+(?:\([^\s()]*\)[^\s()]*)*)(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g,
    /^ {0,3}\[[^\]]+\]:[ \t]*(<[^>]*>|\S+)/gm,
    /<[a-z][^>]*\s(?:href|src)="([^"]+)"/gi,
  ];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) {
      links.push({ line: lineAt(match.index), target: match[1].replace(/^<(.*)>$/, "$1") });
    }
  }
  return links.sort((a, b) => a.line - b.line);
}

/** What is wrong with one link from `file` (repository-relative), or undefined when it resolves. */
function problemWith(file: string, target: string): string | undefined {
  if (/^[a-z][a-z\d+.-]*:/i.test(target) || target.startsWith("//")) return undefined; // not relative: not ours to check
  const hash = target.indexOf("#");
  const linkPath = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = linkPath === "" ? file : path.posix.normalize(linkPath.startsWith("/") ? linkPath.slice(1) : path.posix.join(path.posix.dirname(file), linkPath));
  if (resolved.startsWith("../") || resolved === "..") return `${target}: points outside the repository`;
  const absolute = path.join(ROOT, resolved);
  if (!fs.existsSync(absolute)) return `${target}: ${resolved} does not exist`;
  if (anchor === undefined) return undefined;
  if (!resolved.endsWith(".md")) {
    return /^L\d+(-L\d+)?$/.test(anchor) ? undefined : `${target}: ${resolved} is not Markdown, so #${anchor} cannot be checked`;
  }
  const anchors = anchorsOf(fs.readFileSync(absolute, "utf8"));
  if (anchors.has(anchor)) return undefined;
  return `${target}: ${resolved} has no heading with the anchor #${anchor} (it has ${[...anchors].map((a) => `#${a}`).join(", ")})`;
}

/** The variable names in the first column of the table under docs/api.md's "Settings" heading. */
export function documentedSettings(markdown: string): string[] {
  const lines = withoutFences(markdown).split("\n");
  const start = lines.findIndex((line) => /^#{1,6}\s+Settings\b/.test(line));
  assert.notEqual(start, -1, 'docs/api.md has no "Settings" heading');
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6}\s/.test(line)) break;
    if (!line.startsWith("|")) continue;
    const firstCell = line.split("|")[1] ?? "";
    for (const code of firstCell.matchAll(/`([^`]+)`/g)) if (/^[A-Z][A-Z\d_]*$/.test(code[1])) names.push(code[1]);
  }
  return names;
}

/**
 * The environment variables config.ts reads, found by running its loadConfig against an environment
 * that records every name it is asked for (robust to how the schema is written, and it is exactly what
 * the process reads). Every variable is unset, so the defaults apply.
 */
async function settingsConfigReads(): Promise<Set<string>> {
  const { loadConfig } = await import("../api/src/config.js");
  const read = new Set<string>();
  const record = (key: string | symbol) => {
    if (typeof key === "string" && /^[A-Z][A-Z\d_]*$/.test(key)) read.add(key);
  };
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, key) => (record(key), undefined),
    has: (_target, key) => (record(key), false),
    getOwnPropertyDescriptor: (_target, key) => (record(key), undefined),
    ownKeys: () => [],
  });
  try {
    loadConfig(env, []);
  } catch {
    // A setting that is required with the defaults still counts as read.
  }
  return read;
}

describe("docs: links and anchors", () => {
  it("GitHub's anchor rules: case, punctuation, code spans, emphasis, repeated headings", () => {
    assert.equal(slug("Settings (environment variables)"), "settings-environment-variables");
    assert.equal(slug("`entra` (the factory's managed identity)"), "entra-the-factorys-managed-identity");
    assert.equal(slug("CI/CD with Azure Pipelines"), "cicd-with-azure-pipelines");
    assert.equal(slug("Existing cluster, or no Azure at all"), "existing-cluster-or-no-azure-at-all");
    assert.equal(slug("`MAX_QUEUED_JOBS` and *limits*"), "max_queued_jobs-and-limits");
    assert.equal(slug("__Bold__ and [a link](x.md) 🔒"), "bold-and-a-link-");
    assert.deepEqual(
      [...anchorsOf("# A\n## Notes\n```\n# not a heading\n```\n### Notes\n## Notes ##\n<a id=\"here\"></a>\n")],
      ["a", "notes", "notes-1", "notes-2", "here"],
    );
  });

  it("finds links outside code only, with their line numbers", () => {
    const markdown = "See [a](a.md#x) and `[b](b.md)`.\n```\n[c](c.md)\n```\n[d]: d.md\n<img src=\"e.png\">\n[f\ng](f.md)\n";
    assert.deepEqual(linksOf(markdown), [
      { line: 1, target: "a.md#x" },
      { line: 5, target: "d.md" },
      { line: 6, target: "e.png" },
      { line: 7, target: "f.md" },
    ]);
  });

  it("every relative link and #anchor in README.md and docs/ resolves", () => {
    const files = checkedFiles();
    assert.ok(files.includes("docs/api.md"), `the guides were not found (checked: ${files.join(", ")})`);
    const problems: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const link of linksOf(fs.readFileSync(path.join(ROOT, file), "utf8"))) {
        checked++;
        const problem = problemWith(file, link.target);
        if (problem) problems.push(`${file}:${link.line}: ${problem}`);
      }
    }
    assert.ok(checked > 0, "no links were found at all: the link finder is broken");
    assert.deepEqual(problems, [], `broken links:\n  ${problems.join("\n  ")}`);
  });

  it("README.md links every guide in docs/, so the front door leads everywhere", () => {
    const linked = new Set(
      linksOf(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).map((link) => path.posix.normalize(link.target.split("#")[0])),
    );
    const unlinked = checkedFiles().filter((file) => file !== "README.md" && !linked.has(file));
    assert.deepEqual(unlinked, [], `README.md's "What to read next" does not link: ${unlinked.join(", ")}`);
  });

  it("docs/api.md's settings table lists exactly the variables api/src/config.ts reads", async () => {
    const documented = documentedSettings(fs.readFileSync(path.join(ROOT, "docs", "api.md"), "utf8"));
    const read = await settingsConfigReads();
    assert.ok(read.has("PORT"), `loadConfig read no PORT from its env argument (it read: ${[...read].join(", ") || "nothing"}); this check needs updating`);
    const repeated = documented.filter((name, index) => documented.indexOf(name) !== index);
    const missing = [...read].filter((name) => !documented.includes(name));
    const extra = documented.filter((name) => !read.has(name));
    const problems = [
      ...missing.map((name) => `${name} is read by api/src/config.ts but has no row in docs/api.md's settings table`),
      ...extra.map((name) => `${name} is in docs/api.md's settings table but api/src/config.ts does not read it`),
      ...repeated.map((name) => `${name} appears more than once in docs/api.md's settings table`),
    ];
    assert.deepEqual(problems, [], problems.join("\n"));
  });
});
