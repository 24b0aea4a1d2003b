import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  byFunction: HotSpot[];
  byPackage: HotSpot[];
}

/** Where a frame's code comes from: a package, our API, Node's internals, or V8 (GC, idle, program). */
function packageOf(url: string, functionName: string): string {
  if (!url) return `(${functionName || "anonymous"})`;
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1]!;
  if (url.startsWith("node:")) return `node:${url.slice(5).split("/")[0]}`;
  const api = /api\/dist\/(.+)$/.exec(url);
  if (api) return `api: ${api[1]}`;
  return url;
}

function shortUrl(url: string): string {
  return url.replace(/^file:\/\/.*?\/(node_modules|api\/dist)\//, "$1/");
}

/** Self time per function and per package of a V8 .cpuprofile (what `node --cpu-prof` writes). */
export function summarise(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const { callFrame } = byId.get(id)!;
    const fn = `${callFrame.functionName || "(anonymous)"} ${callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : ""}`.trim();
    functions.set(fn, (functions.get(fn) ?? 0) + us);
    const pkg = packageOf(callFrame.url, callFrame.functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + us);
  }
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 1000), share: us / totalUs }));
  return { file, totalMs: Math.round(totalUs / 1000), byFunction: rank(functions), byPackage: rank(packages) };
}

export function summariseDir(dir: string, top = 15): ProfileSummary[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".cpuprofile"))
    .map((name) => summarise(join(dir, name), top));
}

export function printSummary(summary: ProfileSummary): void {
  console.log(`\nCPU profile ${summary.file} (${summary.totalMs} ms sampled)`);
  const idle = summary.byPackage.find((spot) => spot.name === "(idle)");
  if (idle) console.log(`  idle: ${(idle.share * 100).toFixed(1)}%`);
  console.log("  self time by package / area:");
  for (const spot of summary.byPackage) console.log(`    ${(spot.share * 100).toFixed(1).padStart(5)}%  ${spot.name}`);
  console.log("  self time by function:");
  for (const spot of summary.byFunction) console.log(`    ${(spot.share * 100).toFixed(1).padStart(5)}%  ${spot.name}`);
}

// `tsx bench/profile.ts <dir-or-file>` summarises existing profiles.
// Run as a command (not imported by a test).
if (import.meta.filename === process.argv[1]) {
  const target = process.argv[2] ?? "bench/results/profiles";
  const summaries = target.endsWith(".cpuprofile") ? [summarise(target)] : summariseDir(target);
  summaries.forEach((summary) => printSummary(summary));
}
