import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { closeSync, openSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { resolve } from "node:path";

/** Everything the benchmarks talk to lives on loopback; nothing else is ever targeted. */
export const HOST = "127.0.0.1";

/** BENCH_API_ENTRY runs another build (e.g. a patched copy, to measure a fix before it lands). */
export const API_ENTRY = process.env.BENCH_API_ENTRY ?? resolve(import.meta.dirname, "../api/dist/listen.js");

/**
 * The node flags the image starts the API with, read from the exec-form CMD of api/Dockerfile
 * (`["node", ...flags, "dist/listen.js"]`), so the benchmarks measure the process as deployed.
 */
export const DEPLOYED_NODE_ARGS: readonly string[] = imageNodeArgs(readFileSync(resolve(import.meta.dirname, "../api/Dockerfile"), "utf8"));

function imageNodeArgs(dockerfile: string): string[] {
  const cmd = /^CMD\s+(\[.*\])\s*$/m.exec(dockerfile)?.[1];
  const argv = cmd === undefined ? undefined : (JSON.parse(cmd) as unknown);
  if (!Array.isArray(argv) || argv[0] !== "node" || argv.at(-1) !== "dist/listen.js" || !argv.every((arg) => typeof arg === "string")) {
    throw new Error(`api/Dockerfile: expected an exec-form CMD ["node", ...flags, "dist/listen.js"], got ${cmd ?? "none"}`);
  }
  return argv.slice(1, -1) as string[];
}

/** A free TCP port on 127.0.0.1 (the OS picks it; we release it for the child to take). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, HOST);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Child {
  child: ChildProcess;
  url: string;
  port: number;
  exited: Promise<number | null>;
  /** performance.now() just before the spawn. */
  startedAt: number;
  /** Stops the child with SIGTERM (SIGKILL after `graceMs`) and waits for it to exit. */
  stop(graceMs?: number): Promise<number | null>;
}

function wrap(child: ChildProcess, port: number, startedAt: number): Child {
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    child,
    port,
    startedAt,
    url: `http://${HOST}:${port}`,
    exited,
    async stop(graceMs = 25_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * The BUILT API (`node api/dist/listen.js`) as deployed: the image's node flags, NODE_ENV=production,
 * LOG_LEVEL=info, logging on. Its stdout goes to /dev/null so the benchmark process does not pay for reading it.
 */
export async function spawnApi(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<Child> {
  const port = await freePort();
  const devNull = openSync("/dev/null", "w");
  const startedAt = performance.now();
  const child = spawn(process.execPath, [...DEPLOYED_NODE_ARGS, ...nodeArgs, API_ENTRY], {
    env: { ...process.env, NODE_ENV: "production", LOG_LEVEL: "info", HOST, PORT: String(port), ...env },
    stdio: ["ignore", devNull, "inherit"],
  });
  closeSync(devNull);
  return wrap(child, port, startedAt);
}

// A bare node:http server answering what GET /helloworld answers: the ceiling for this machine.
export const BASELINE_SOURCE = `
const http = require("node:http");
const body = JSON.stringify({ message: "Hello World" });
const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/helloworld") {
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
    res.end(body);
  } else if (req.url === "/readyz") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  } else {
    res.writeHead(404);
    res.end();
  }
});
server.keepAliveTimeout = 75000;
server.listen(Number(process.env.PORT), process.env.HOST);
process.on("SIGTERM", () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;

// The framework alone, for scale: Koa and @koa/router (the API's own copies) answering the same JSON.
export const KOA_SOURCE = `
const { createRequire } = require("node:module");
const apiRequire = createRequire(process.env.API_PACKAGE);
const Koa = apiRequire("koa");
const { Router } = apiRequire("@koa/router");
const app = new Koa();
const router = new Router();
router.get("/helloworld", (ctx) => { ctx.body = { message: "Hello World" }; });
router.get("/readyz", (ctx) => { ctx.body = {}; });
app.use(router.routes()).use(router.allowedMethods());
const server = app.listen(Number(process.env.PORT), process.env.HOST);
server.keepAliveTimeout = 75000;
process.on("SIGTERM", () => { server.close(() => process.exit(0)); server.closeIdleConnections(); });
`;

export function spawnBaseline(): Promise<Child> {
  return spawnSource(BASELINE_SOURCE);
}

/** A bare Koa 3 + @koa/router app with one route: what the framework costs before any of ours. */
export function spawnKoaBaseline(): Promise<Child> {
  return spawnSource(KOA_SOURCE);
}

async function spawnSource(source: string): Promise<Child> {
  const port = await freePort();
  const startedAt = performance.now();
  const child = spawn(process.execPath, ["-e", source], {
    env: { ...process.env, NODE_ENV: "production", HOST, PORT: String(port), API_PACKAGE: resolve(import.meta.dirname, "../api/package.json") },
    stdio: ["ignore", "ignore", "inherit"],
  });
  return wrap(child, port, startedAt);
}

/** One GET; resolves with its status (0 on a connection error). */
export function getStatus(url: string, timeoutMs = 2_000): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { method: "GET", agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.once("end", () => resolve(res.statusCode ?? 0));
      res.once("error", () => resolve(0));
    });
    req.once("timeout", () => req.destroy());
    req.once("error", () => resolve(0));
    req.end();
  });
}

/** Polls `url` until it answers 200; resolves with the time (performance.now()) of that answer. */
export async function waitFor200(url: string, child: Child, timeoutMs = 15_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (child.child.exitCode !== null) throw new Error(`the process exited (${child.child.exitCode}) before ${url} answered 200`);
    if ((await getStatus(url)) === 200) return performance.now();
    if (performance.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Memory of a process from /proc: current and peak resident set size, in MB. */
export function memoryOf(pid: number): { rssMb: number; peakRssMb: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    return { rssMb: kb("VmRSS") / 1024, peakRssMb: kb("VmHWM") / 1024 };
  } catch {
    return undefined;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the highest seen (and VmHWM). */
export function sampleRss(pid: number, everyMs = 200): { stop(): number } {
  let peak = 0;
  const sample = () => {
    const memory = memoryOf(pid);
    if (memory) peak = Math.max(peak, memory.rssMb, memory.peakRssMb);
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return peak;
    },
  };
}

/** CPU time (user + system) a process has used so far, in milliseconds, from /proc/<pid>/stat. */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
