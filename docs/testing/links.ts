/**
 * The README and the guides read as GitHub renders them, for docs/links.test.ts: their links and
 * anchors (GitHub's rules, as github-slugger), whether a relative link resolves, and docs/api.md's
 * settings table beside the variables api/src/config.ts reads.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { ROOT } from "./guides.js";

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
export function problemWith(file: string, target: string): string | undefined {
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
export async function settingsConfigReads(): Promise<Set<string>> {
  const { loadConfig } = await import("../../api/src/config.js");
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
