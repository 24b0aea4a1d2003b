import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const ENTRY = fileURLToPath(new URL("../listen.ts", import.meta.url));

/** The entry point through tsx, on 127.0.0.1 and free ports unless `env` says otherwise. */
function spawnEntry(env: Record<string, string>, args: string[]) {
  return spawn(process.execPath, ["--import", "tsx", ENTRY, ...args], {
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", METRICS_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
}

export interface ApiProcess {
  child: ChildProcess;
  url: string;
  /** The metrics port's base URL (`${metricsUrl}/metrics`). */
  metricsUrl: string;
  /** Every stdout line so far (JSON log lines). */
  lines: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the real entry point (`listen.ts`, through tsx) as its own process on a free port. */
export async function startApiProcess(env: Record<string, string> = {}, args: string[] = []): Promise<ApiProcess> {
  const child = spawnEntry({ LOG_LEVEL: "info", ...env }, args);
  const lines: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const { port, metricsPort } = await new Promise<{ port: number; metricsPort: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on("line", (line) => {
      lines.push(line);
      const entry = JSON.parse(line) as { msg?: string; port?: number; metricsPort?: number };
      if (entry.msg === "listening" && entry.port && entry.metricsPort) resolve({ port: entry.port, metricsPort: entry.metricsPort });
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    void exited.then(({ code }) => reject(new Error(`the API exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url: `http://127.0.0.1:${port}`, metricsUrl: `http://127.0.0.1:${metricsPort}`, lines, exited };
}

/** Runs the entry point to completion and returns its exit code and output (for start-up failures). */
export function runApiProcess(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnEntry(env, args);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
    setTimeout(() => child.kill("SIGTERM"), 10_000).unref();
  });
}

const LOG_THEN_EXIT = fileURLToPath(new URL("./log-then-exit.ts", import.meta.url));

/**
 * Runs log-then-exit.ts with `args` (a line count, how it ends); its stdout is left unread for
 * `readAfterMs` (a slow log collector: the pipe fills).
 */
export function runLogThenExit(args: string[], readAfterMs: number): Promise<{ code: number | null; lines: string[] }> {
  const child = spawn(process.execPath, ["--import", "tsx", LOG_THEN_EXIT, ...args], { stdio: ["ignore", "pipe", "ignore"] });
  const chunks: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  child.stdout.pause();
  setTimeout(() => child.stdout.resume(), readAfterMs);
  return new Promise((resolve) => {
    child.once("close", (code) => resolve({ code, lines: Buffer.concat(chunks).toString("utf8").split("\n").filter(Boolean) }));
  });
}

/** Log text written since `from`, up to a marker request's own line (the log is written in order). */
export async function logsThrough(api: ApiProcess, from: number): Promise<string> {
  const marker = `marker-${randomBytes(6).toString("hex")}`;
  await fetch(`${api.url}/healthz`, { headers: { "x-request-id": marker } });
  while (!api.lines.some((line) => line.includes(marker))) await new Promise((resolve) => setTimeout(resolve, 20));
  const upTo = api.lines.findIndex((line) => line.includes(marker));
  return api.lines.slice(from, upTo).join("\n");
}
