import autocannon from "autocannon";

import { cpuTimeMs, spawnApi, spawnBaseline, spawnKoaBaseline, waitFor200, type Child } from "./processes.js";

export interface CpuOptions {
  /** Requests per second offered to every server alike, below what any of them saturates at. */
  rate: number;
  durationS: number;
  connections: number;
}

export interface CpuFigure {
  server: string;
  requests: number;
  usPerRequest: number;
}

/**
 * Server CPU time per request at one fixed request rate. Unlike req/s at saturation, this does not
 * depend on how much of the machine the load generator takes, so it compares the servers themselves.
 */
export async function runCpuPerRequest(options: CpuOptions): Promise<CpuFigure[]> {
  const servers: Array<[string, () => Promise<Child>]> = [
    ["bare node:http", spawnBaseline],
    ["bare Koa + @koa/router", spawnKoaBaseline],
    ["API (built, production)", () => spawnApi()],
  ];
  const figures: CpuFigure[] = [];
  for (const [server, spawnServer] of servers) {
    const target = await spawnServer();
    try {
      await waitFor200(`${target.url}/readyz`, target);
      const url = `${target.url}/helloworld`;
      await autocannon({ url, connections: options.connections, duration: 3 }); // warm-up (JIT)
      const before = cpuTimeMs(target.child.pid!);
      const result = await autocannon({ url, connections: options.connections, duration: options.durationS, overallRate: options.rate });
      const usedMs = cpuTimeMs(target.child.pid!) - before;
      figures.push({ server, requests: result.requests.total, usPerRequest: (usedMs * 1000) / Math.max(result.requests.total, 1) });
    } finally {
      await target.stop();
    }
  }
  return figures;
}
