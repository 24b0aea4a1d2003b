/**
 * The README and the guides in docs/ stay navigable: every relative link and #anchor resolves, and
 * docs/api.md's settings table lists exactly the environment variables api/src/config.ts reads.
 * Anchors follow GitHub's rules (github-slugger), so a link that passes here works on GitHub.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { guides, ROOT } from "./testing/guides.js";
import { anchorsOf, documentedSettings, linksOf, problemWith, settingsConfigReads, slug } from "./testing/links.js";

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
    const files = guides();
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
    const unlinked = guides().filter((file) => file !== "README.md" && !linked.has(file));
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
