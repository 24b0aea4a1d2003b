/**
 * Instructions per request, counted by Valgrind's callgrind: repeatable on a busy machine, where
 * wall-clock figures are not. `npx tsx bench/instructions.ts --help`. Needs `valgrind` (apt-get install
 * valgrind). Only the server's own user-space instructions count (the kernel's TCP work does not).
 *
 * The server runs under callgrind; after a warm-up (so the JIT has settled) the counters are zeroed,
 * N requests are sent over keep-alive connections, and the counters are dumped: instructions / N.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { API_ENTRY, BASELINE_SOURCE, DEPLOYED_NODE_ARGS, freePort, HOST, KOA_SOURCE } from "./processes.js";

const USAGE = `usage: npx tsx bench/instructions.ts [options] [server...]
  server              api (default), koa, node, or a path to a .js/.mjs entry point
  --requests N        requests counted per window (default 1000)
  --windows N         counted windows after the warm-up; the figure is their median (default 5)
  --warmup N          requests sent before counting (default 3000)
  --connections N     keep-alive connections (default 1: one request per event-loop turn)
  --path P            request path (default /helloworld)
  --env K=V           extra environment for the server (repeatable), e.g. --env LOG_LEVEL=warn
  --runs N            runs per server; the figure printed is their median (default 1)`;

const { values: flags, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    requests: { type: "string", default: "1000" },
    windows: { type: "string", default: "5" },
    warmup: { type: "string", default: "3000" },
    connections: { type: "string", default: "1" },
    path: { type: "string", default: "/helloworld" },
    env: { type: "string", multiple: true, default: [] },
    runs: { type: "string", default: "1" },
    help: { type: "boolean", default: false },
  },
});
if (flags.help) {
  console.log(USAGE);
  process.exit(0);
}

const requests = Number(flags.requests);
const warmup = Number(flags.warmup);
const connections = Number(flags.connections);
const runs = Number(flags.runs);
const windows = Number(flags.windows);
const extraEnv = Object.fromEntries(flags.env.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));

function get(agent: Agent, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
    });
    req.once("error", reject);
    req.end();
  });
}

/** `count` GETs over `connections` keep-alive connections; throws unless every one answered 2xx. */
async function load(agent: Agent, url: string, count: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const status = await get(agent, url);
      if (status < 200 || status > 299) throw new Error(`${url} answered ${status}`);
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
}

async function waitUntilUp(url: string, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline && !gone) {
    const agent = new Agent();
    try {
      if ((await get(agent, url)) === 200) return;
    } catch {
      // not listening yet
    } finally {
      agent.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`${url} did not come up under valgrind`);
}

function summaryOf(file: string): number {
  const match = /^summary: (\d+)/m.exec(readFileSync(file, "utf8")) ?? /^totals: (\d+)/m.exec(readFileSync(file, "utf8"));
  if (!match) throw new Error(`no summary in ${file}`);
  return Number(match[1]);
}

/**
 * One server under callgrind: instructions per request in each of `windows` windows of `requests`
 * requests after the warm-up. A window can catch a major GC or a JIT compilation (counted too: all
 * threads are), so the median of several is steadier than one long window.
 */
async function measure(server: string): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), "callgrind-"));
  const port = await freePort();
  const args =
    server === "node" ? ["-e", BASELINE_SOURCE] : server === "koa" ? ["-e", KOA_SOURCE] : [...DEPLOYED_NODE_ARGS, server === "api" ? API_ENTRY : server];
  const env = {
    ...process.env,
    NODE_ENV: "production",
    LOG_LEVEL: "info",
    HOST,
    PORT: String(port),
    METRICS_PORT: "0",
    API_PACKAGE: join(import.meta.dirname, "../api/package.json"),
    ...extraEnv,
  };
  const child = spawn("valgrind", ["--tool=callgrind", `--callgrind-out-file=${join(dir, "cg.out")}`, process.execPath, ...args], {
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  // vgdb finds the process by a file named after USER and HOST: callgrind_control needs the same values.
  const control = (command: string) => execFileSync("callgrind_control", [command, String(child.pid)], { encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = once(child, "exit");
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  try {
    const base = `http://${HOST}:${port}`;
    await waitUntilUp(`${base}/readyz`, exited);
    await load(agent, `${base}${flags.path}`, warmup);
    const figures: number[] = [];
    for (let window = 1; window <= windows; window++) {
      control("--zero");
      await load(agent, `${base}${flags.path}`, requests);
      const said = control("--dump");
      const dump = join(dir, `cg.out.${window}`);
      for (let i = 0; i < 100 && !existsSync(dump); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      if (!existsSync(dump)) throw new Error(`callgrind wrote no dump (${said}): ${stderr}`);
      figures.push(summaryOf(dump) / requests);
    }
    return figures;
  } finally {
    agent.destroy();
    child.kill("SIGTERM");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const servers = positionals.length > 0 ? positionals : ["api"];
  const env = Object.entries(extraEnv).map(([k, v]) => `${k}=${v}`).join(" ");
  console.log(`instructions per GET ${flags.path}: ${warmup} warm-up + ${windows} x ${requests} counted, ${connections} connection(s)${env ? `, ${env}` : ""}`);
  for (const server of servers) {
    const figures: number[] = [];
    for (let i = 0; i < runs; i++) figures.push(...(await measure(server)));
    const median = [...figures].sort((a, b) => a - b)[Math.floor(figures.length / 2)]!;
    const each = figures.map((f) => Math.round(f / 1000)).join(" ");
    console.log(`${server.padEnd(40)} ${Math.round(median).toLocaleString("en").padStart(10)} instructions / request (median; windows, thousands: ${each})`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
