/**
 * The guides' `pulumi config` commands leave a stack the program accepts: each guide's recipes, applied
 * on top of Pulumi.dev.yaml as testing/config-recipes.ts says, pass the stack's own validation. And the
 * reader of the guides' shell commands (testing/shell.ts, testing/config-commands.ts) reads them right.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";

import { configSections, configSteps, type ConfigStep } from "./testing/config-commands.js";
import { DEV, problemsOf, PROJECT } from "./testing/config-recipes.js";
import { guides, ROOT } from "./testing/guides.js";
import { parseShell } from "./testing/shell.js";

describe("the guides' pulumi config commands", () => {
  for (const file of guides()) {
    it(`${file}: every recipe passes the stack's validation on top of Pulumi.dev.yaml`, () => {
      const problems = problemsOf(file);
      assert.deepEqual(problems, [], `\n${problems.join("\n")}`);
    });
  }

  it("would catch what it is for: a kind recipe on a Pulumi.dev.yaml that sets Azure-only keys, a bad value, an unknown key", () => {
    const guide = [
      "# Local",
      "```sh",
      "pulumi config set target kubeconfig",
      `pulumi config set --secret kubeconfig "$(kind get kubeconfig --name dev)"`,
      "pulumi config set registryServer localhost:5001",
      "```",
      "# Tuning",
      "```sh",
      "pulumi config set replicas many && pulumi config set replica 3",
      "pulumi config set basicAuthPassword hunter2",
      "```",
    ].join("\n");
    const problems = problemsOf("docs/guide.md", guide, { ...DEV, clusterCredentials: "admin", registryAuth: "entra" });
    assert.equal(problems.length, 5, problems.join("\n"));
    assert.match(problems[0], /^docs\/guide\.md:5: clusterCredentials: applies to AKS only.*target kubeconfig \(set at line 3\); clusterCredentials from Pulumi\.dev\.yaml/);
    assert.match(problems[1], /^docs\/guide\.md:5: registryAuth: /);
    assert.match(problems[2], /^docs\/guide\.md:9: replica: is no key of the stack/);
    assert.match(problems[3], /^docs\/guide\.md:10: basicAuthPassword: is a secret: set it with --secret/);
    assert.match(problems[4], /^docs\/guide\.md:9: replicas: must be a whole number/);
  });

  it("the guides have recipes at all (the parser finds them)", () => {
    const steps = guides().flatMap((file) => configSections(fs.readFileSync(path.join(ROOT, file), "utf8"), PROJECT).flatMap((s) => s.steps));
    assert.ok(steps.some((s) => s.kind === "set" && s.key === "target" && s.value === "kubeconfig"), "the kind recipe is found");
    assert.ok(steps.filter((s) => s.kind === "set").length >= 10);
  });
});

describe("reading the guides' shell commands", () => {
  const steps = (script: string): ConfigStep[] => parseShell(script).flatMap((c) => configSteps(c.words, c.line, PROJECT) ?? []);

  it("quotes, line continuations, $(...), comments and && chains", () => {
    const script = [
      `pulumi config set --secret kubeconfig "$(kind get kubeconfig --name dev)"   # required`,
      `pulumi config set registryName myacr        && pulumi config set registryResourceGroup 'rg shared'`,
      `pulumi config set \\`,
      `    allowedSourceRanges "$ranges"; pulumi up`,
      `ranges=$(az network list-service-tags --location westeurope \\`,
      `  --query "values[?name=='DataFactory.WestEurope'].properties.addressPrefixes[]" -o tsv | paste -sd, -)`,
      `pulumi config set ${PROJECT}:logLevel debug --stack dev`,
      `pulumi config set azure-native:location westeurope`,
      `pulumi config set --path exposure.mode https`,
      `pulumi config set hostname adf.example.com extra`,
      `pulumi config rm clusterCredentials && pulumi config set-all --plaintext a=1 --secret b=$B`,
      `echo "pulumi config set not a command" > /dev/null 2>&1`,
    ].join("\n");
    assert.deepEqual(steps(script), [
      { kind: "set", key: "kubeconfig", value: "$(kind get kubeconfig --name dev)", dynamic: true, secret: true, line: 1 },
      { kind: "set", key: "registryName", value: "myacr", dynamic: false, secret: false, line: 2 },
      { kind: "set", key: "registryResourceGroup", value: "rg shared", dynamic: false, secret: false, line: 2 },
      { kind: "set", key: "allowedSourceRanges", value: "$ranges", dynamic: true, secret: false, line: 3 },
      { kind: "set", key: "logLevel", value: "debug", dynamic: false, secret: false, line: 7 },
      { kind: "invalid", key: "exposure.mode", line: 9, problem: "sets a structured value (--path): every key of the stack is a plain string" },
      { kind: "invalid", key: "hostname", line: 10, problem: "pulumi config set takes a key and a value, got 3 arguments (a value with spaces must be quoted)" },
      { kind: "rm", key: "clusterCredentials", line: 11 },
      { kind: "set", key: "a", value: "1", dynamic: false, secret: false, line: 11 },
      { kind: "set", key: "b", value: "$B", dynamic: true, secret: true, line: 11 },
    ]);
  });

  it("console blocks: only the $ lines are commands; other fences are not shell", () => {
    const markdown = [
      "# A",
      "```console",
      "$ pulumi config set replicas 3",
      "pulumi config set replicas 99",
      "```",
      "```text",
      "pulumi config set replicas 98",
      "```",
      "## B",
      "  ```bash",
      "  pulumi config set target kubeconfig",
      "  ```",
    ].join("\n");
    assert.deepEqual(
      configSections(markdown, PROJECT).map((s) => [s.heading, s.steps.map((step) => step.kind === "set" && `${step.key}=${step.value}@${step.line}`)]),
      [
        ["(top)", []],
        ["A", ["replicas=3@3"]],
        ["B", ["target=kubeconfig@11"]],
      ],
    );
  });
});
