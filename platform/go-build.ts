import * as fs from "node:fs";
import * as path from "node:path";

import { makeTempDir, removeTempDir } from "./interrupts.js";
import { run } from "./processes.js";
import { CACHE } from "./state.js";

/**
 * One Go program of the platform, built from the Go module proxy at an exact version. Modules whose own
 * go.mod has `replace` directives (Kubernetes, etcd) cannot be `go install`ed at a version, so each is built
 * from a small module of our own that requires them, in a temporary directory: nothing of theirs is kept
 * but the binaries, cached under `<cache>/<name>-<version>/`.
 */
export interface GoProgram {
  name: string;
  version: string;
  /** Modules to require, `path version`. */
  require: string[];
  /** `replace` lines for our module, `old => new version`. */
  replace?: string[];
  /** The main packages to build, by the name of the binary each becomes. */
  binaries: Record<string, string>;
  ldflags?: string;
  /** Build tags, and whether cgo is needed (runc's seccomp support links libseccomp). */
  tags?: string;
  cgo?: boolean;
  /** Prints the built program's own idea of its version, checked against `version` before every use. */
  versionOf: (binary: string) => Promise<string>;
}

export const binDir = (program: GoProgram) => path.join(CACHE, `${program.name}-${program.version}`);
export const binaryOf = (program: GoProgram, binary: string) => path.join(binDir(program), binary);

/** The binaries of `program`, built on first use and cached by version; each one's version is checked. */
export async function ensureBuilt(program: GoProgram, log: (line: string) => void): Promise<string> {
  const dir = binDir(program);
  const binaries = Object.keys(program.binaries).map((b) => binaryOf(program, b));
  if (!binaries.every((b) => fs.existsSync(b))) {
    log(`building ${program.name} ${program.version} from the Go module proxy (once; cached in ${dir}) ...`);
    const started = Date.now();
    const work = makeTempDir(`build-${program.name}-`);
    try {
      const goMod = [
        `module local/${program.name}-build`,
        "",
        "go 1.24",
        "",
        ...program.require.map((r) => `require ${r}`),
        ...(program.replace ?? []).map((r) => `replace ${r}`),
        "",
      ].join("\n");
      fs.writeFileSync(path.join(work, "go.mod"), goMod);
      // The packages to build, imported so that `go mod tidy` resolves what they need.
      fs.writeFileSync(path.join(work, "tools.go"), `//go:build tools\n\npackage tools\n\nimport (\n${Object.values(program.binaries).map((p) => `\t_ "${p}"`).join("\n")}\n)\n`);
      const env = { ...process.env, GOFLAGS: "-mod=mod", CGO_ENABLED: program.cgo ? "1" : "0" };
      await run("go", ["mod", "tidy"], { cwd: work, env });
      const partial = `${dir}.part`;
      fs.rmSync(partial, { recursive: true, force: true });
      fs.mkdirSync(partial, { recursive: true });
      for (const [binary, pkg] of Object.entries(program.binaries)) {
        await run("go", ["build", "-trimpath", ...(program.tags ? ["-tags", program.tags] : []), "-ldflags", `-s -w ${program.ldflags ?? ""}`, "-o", path.join(partial, binary), pkg], { cwd: work, env });
      }
      fs.rmSync(dir, { recursive: true, force: true });
      fs.renameSync(partial, dir);
    } finally {
      fs.rmSync(`${dir}.part`, { recursive: true, force: true });
      removeTempDir(work);
    }
    log(`built ${program.name} ${program.version} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  for (const binary of binaries) {
    const reported = await program.versionOf(binary);
    if (!reported.includes(program.version.replace(/^v/, ""))) {
      throw new Error(`${binary} reports version "${reported.trim()}", not ${program.version}: remove ${dir} to build it again`);
    }
  }
  return dir;
}
