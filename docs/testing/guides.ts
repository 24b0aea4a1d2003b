/** Where the repository is, and which Markdown files are its guides: shared by the link and config-recipe checks. */
import fs from "node:fs";
import path from "node:path";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");

/** The front door and every guide: README.md, then docs/*.md (top level only, as the docs/ tree is flat), sorted. */
export function guides(): string[] {
  const docs = fs
    .readdirSync(path.join(ROOT, "docs"))
    .filter((file) => file.endsWith(".md"))
    .sort()
    .map((file) => path.join("docs", file));
  return ["README.md", ...docs];
}
