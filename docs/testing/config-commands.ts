/**
 * The `pulumi config` commands in the guides' fenced shell blocks, grouped by the Markdown section they
 * are in. docs/config-commands.test.ts applies them on top of Pulumi.dev.yaml and validates the result.
 */
import { parseShell, type Word } from "./shell.js";

/** One change a command makes to the stack's config. */
export type ConfigStep =
  | { kind: "set"; key: string; value: string; dynamic: boolean; secret: boolean; line: number }
  | { kind: "rm"; key: string; line: number }
  /** A command Pulumi itself would refuse, or one that sets something the stack cannot read. */
  | { kind: "invalid"; key: string; line: number; problem: string };

export interface Section {
  heading: string;
  line: number;
  steps: ConfigStep[];
}

/** Fence languages read as shell (unlabelled blocks too); `console` blocks only from their `$ ` lines. */
const SHELL_LANGUAGES = new Set(["", "sh", "bash", "shell", "zsh", "ksh"]);
const SESSION_LANGUAGES = new Set(["console", "shell-session", "sh-session"]);

interface Block {
  language: string;
  /** The block's lines, with the fence's indentation removed. */
  lines: string[];
  /** The file line of the block's first line. */
  firstLine: number;
}

/** The sections of a Markdown file (a heading starts one; text before the first is a section too) and their fenced blocks. */
function sectionsOf(markdown: string): { heading: string; line: number; blocks: Block[] }[] {
  const result: { heading: string; line: number; blocks: Block[] }[] = [{ heading: "(top)", line: 1, blocks: [] }];
  let fence: { char: string; length: number; indent: number; block: Block } | undefined;
  markdown.split("\n").forEach((text, index) => {
    const line = index + 1;
    const marker = /^( {0,3})(`{3,}|~{3,})\s*([^\s`]*)/.exec(text);
    if (fence) {
      if (marker && marker[2][0] === fence.char && marker[2].length >= fence.length && text.trim() === marker[2]) {
        result[result.length - 1].blocks.push(fence.block);
        fence = undefined;
      } else {
        fence.block.lines.push(text.slice(Math.min(fence.indent, /^ */.exec(text)?.[0].length ?? 0)));
      }
      return;
    }
    if (marker) {
      const language = (marker[3] ?? "").toLowerCase().replace(/^\{?\.?/, "").replace(/[,}].*$/, "");
      fence = { char: marker[2][0], length: marker[2].length, indent: marker[1].length, block: { language, lines: [], firstLine: line + 1 } };
      return;
    }
    const heading = /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(text);
    if (heading) result.push({ heading: heading[1], line, blocks: [] });
  });
  return result;
}

/** A block's shell source: session blocks keep their `$ ` command lines (and continuations) only; line numbers kept. */
function shellSource(block: Block): string | undefined {
  if (SHELL_LANGUAGES.has(block.language)) return block.lines.map((l) => l.replace(/^\$ /, "")).join("\n");
  if (!SESSION_LANGUAGES.has(block.language)) return undefined;
  let continued = false;
  return block.lines
    .map((l) => {
      const keep = continued || l.startsWith("$ ");
      continued = keep && l.endsWith("\\");
      return keep ? l.replace(/^\$ /, "") : "";
    })
    .join("\n");
}

/** Flags of `pulumi` and `pulumi config ...` that take a value. */
const FLAGS_WITH_VALUE = new Set(["-s", "--stack", "-C", "--cwd", "--config-file", "--color", "--type"]);

/** Placeholders such as `<password>`: a value the reader supplies. */
const PLACEHOLDER = /<[^<>\s]+>/;

/**
 * The config steps of one `pulumi ...` command (undefined for anything else): `config set`, `set-all`,
 * `rm` and `rm-all`, for the project's keys (`key` or `<project>:key`; other namespaces are ignored).
 */
export function configSteps(all: Word[], line: number, project: string): ConfigStep[] | undefined {
  let words = all;
  while (words.length > 0 && (/^[A-Za-z_]\w*=/.test(words[0].text) || ["npx", "sudo", "command", "env"].includes(words[0].text))) words = words.slice(1);
  if (words[0]?.text !== "pulumi") return undefined;
  let k = 1;
  const skipFlags = () => {
    while (k < words.length && words[k].text.startsWith("-")) {
      if (FLAGS_WITH_VALUE.has(words[k].text)) k++;
      k++;
    }
  };
  skipFlags();
  if (words[k]?.text !== "config") return undefined;
  k++;
  skipFlags();
  const sub = words[k]?.text;
  if (sub === undefined || !["set", "set-all", "rm", "rm-all"].includes(sub)) return undefined;

  let secret = false;
  let path = false;
  const positional: Word[] = [];
  /** set-all's `--plaintext key=value` / `--secret key=value` pairs. */
  const pairs: { word: Word; secret: boolean }[] = [];
  for (let j = k + 1; j < words.length; j++) {
    const { text } = words[j];
    const flag = text.split("=")[0];
    if (sub === "set-all" && (flag === "--plaintext" || flag === "--secret")) {
      const pair = text.includes("=") ? { text: text.slice(flag.length + 1), dynamic: words[j].dynamic } : words[++j];
      if (pair) pairs.push({ word: pair, secret: flag === "--secret" });
    } else if (text === "--secret") secret = true;
    else if (text === "--path") path = true;
    else if (text === "--") {
      positional.push(...words.slice(j + 1));
      break;
    }
    else if (text.startsWith("-") && text !== "-") {
      if (FLAGS_WITH_VALUE.has(text)) j++;
    } else positional.push(words[j]);
  }

  const steps: ConfigStep[] = [];
  /** The stack's key of a config key, or undefined for another namespace or a placeholder. */
  const stackKey = (word: Word): string | undefined => {
    if (word.dynamic || PLACEHOLDER.test(word.text)) return undefined;
    const colon = word.text.indexOf(":");
    if (colon >= 0 && word.text.slice(0, colon) !== project) return undefined;
    const key = colon >= 0 ? word.text.slice(colon + 1) : word.text;
    if (path && /[.[]/.test(key)) {
      steps.push({ kind: "invalid", key, line, problem: "sets a structured value (--path): every key of the stack is a plain string" });
      return undefined;
    }
    return key;
  };
  const set = (keyWord: Word, value: Word | undefined, isSecret: boolean) => {
    const key = stackKey(keyWord);
    if (key === undefined) return;
    // No value: pulumi reads it from the terminal or stdin.
    const dynamic = value === undefined || value.dynamic || PLACEHOLDER.test(value.text);
    steps.push({ kind: "set", key, value: value?.text ?? "", dynamic, secret: isSecret, line });
  };

  if (sub === "set") {
    if (positional.length === 0 || positional.length > 2) {
      const what = positional.length === 0 ? "no key" : `${positional.length} arguments (a value with spaces must be quoted)`;
      steps.push({ kind: "invalid", key: positional[0]?.text ?? "?", line, problem: `pulumi config set takes a key and a value, got ${what}` });
    } else set(positional[0], positional[1], secret);
  } else if (sub === "set-all") {
    for (const { word, secret: isSecret } of pairs) {
      const eq = word.text.indexOf("=");
      if (eq < 0) steps.push({ kind: "invalid", key: word.text, line, problem: "set-all takes key=value pairs" });
      else set({ text: word.text.slice(0, eq), dynamic: false }, { text: word.text.slice(eq + 1), dynamic: word.dynamic }, isSecret);
    }
  } else {
    for (const word of positional) {
      const key = stackKey(word);
      if (key !== undefined) steps.push({ kind: "rm", key, line });
    }
  }
  return steps;
}

/** Every section of a Markdown file with the config steps of its fenced shell blocks, in order. */
export function configSections(markdown: string, project: string): Section[] {
  return sectionsOf(markdown).map(({ heading, line, blocks }) => {
    const steps: ConfigStep[] = [];
    for (const block of blocks) {
      const source = shellSource(block);
      if (source === undefined) continue;
      for (const command of parseShell(source, block.firstLine)) steps.push(...(configSteps(command.words, command.line, project) ?? []));
    }
    return { heading, line, steps };
  });
}
