import * as fs from "node:fs";
import * as path from "node:path";

/**
 * The state directory is the one thing `down` deletes, as root, so what may be one is strict: the setting
 * is canonicalised (absolute, `..` and symlinks resolved, no trailing slash), and a directory is the
 * platform's only if `up` made it: `up` creates it with a marker that names it, and refuses an existing
 * directory without that marker; `down` refuses a directory without it.
 */
export const MARKER = ".adf-webhook-aks-platform";
const MARKER_TEXT = "the state directory of an adf-webhook-aks local platform; npm run platform -- down deletes it";

/** The canonical form of a state directory setting; throws on one that can never be a state directory. */
export function canonicalStateDir(setting: string, name = "ADF_PLATFORM_STATE"): string {
  if (setting.trim() === "") throw new Error(`${name} is set but empty: unset it for the default, or name a directory`);
  if (!path.isAbsolute(setting)) throw new Error(`${name}=${JSON.stringify(setting)} is not an absolute path`);
  // Resolve symlinks in the part that exists; the rest is made by `up`.
  let existing = path.resolve(setting);
  const missing: string[] = [];
  while (!fs.existsSync(existing)) {
    missing.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  const canonical = path.join(fs.realpathSync(existing), ...missing);
  if (canonical === path.parse(canonical).root) throw new Error(`${name}=${JSON.stringify(setting)} is the file system's root`);
  return canonical;
}

/** Why `dir` is not a state directory of this platform, or undefined when it is one. */
export function notPlatformStateDir(dir: string): string | undefined {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(dir);
  } catch {
    return `${dir} does not exist`;
  }
  if (!stat.isDirectory()) return `${dir} is not a directory`;
  let marker: fs.Stats;
  try {
    marker = fs.lstatSync(path.join(dir, MARKER));
  } catch {
    return `${dir} has no ${MARKER}: npm run platform -- up did not make it`;
  }
  if (!marker.isFile()) return `${dir}/${MARKER} is not a regular file`;
  let recorded: unknown;
  try {
    recorded = (JSON.parse(fs.readFileSync(path.join(dir, MARKER), "utf8")) as { dir?: unknown }).dir;
  } catch {
    return `${dir}/${MARKER} is not the platform's`;
  }
  // A marker copied or a directory moved: it names another directory.
  if (recorded !== dir) return `${dir}/${MARKER} names ${JSON.stringify(recorded)}, not ${dir}`;
  return undefined;
}

/**
 * For `up`: makes the state directory with its marker (true), or accepts one an earlier `up` made (false);
 * refuses anything else.
 */
export function claimStateDir(dir: string): boolean {
  if (fs.existsSync(dir) || isDanglingLink(dir)) {
    const why = notPlatformStateDir(dir);
    if (why) throw new Error(`refusing to use ${dir} as the platform's state directory: ${why} (name a directory that does not exist yet)`);
    return false;
  }
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ about: MARKER_TEXT, dir }) + "\n", { flag: "wx", mode: 0o600 });
  return true;
}

/** For `down`: whether there is a state directory to remove; throws if `dir` is something else. */
export function stateDirToRemove(dir: string): boolean {
  if (!fs.existsSync(dir) && !isDanglingLink(dir)) return false;
  const why = notPlatformStateDir(dir);
  if (why) throw new Error(`refusing to touch ${dir}: ${why}`);
  return true;
}

function isDanglingLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
