import autocannon from "autocannon";

import { sampleRss, spawnApi, spawnBaseline, spawnKoaBaseline, waitFor200, type Child } from "./processes.js";

export interface HttpOptions {
  durationS: number;
  warmupS: number;
  connections: number;
  path: string;
  /** Extra node flags for the API process (e.g. --cpu-prof). */
  apiNodeArgs: string[];
}

export interface HttpFigures {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  requests: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export interface HttpResult {
  api: HttpFigures & { peakRssMb: number };
  /** Bare Koa + @koa/router, one route: the target's baseline. */
  koa: HttpFigures & { peakRssMb: number };
  /** Bare node:http: the machine's ceiling, for scale. */
  baseline: HttpFigures & { peakRssMb: number };
  /** API / bare Koa. */
  ratio: { requestsPerSec: number; p99: number };
  /** API / bare node:http. */
  ratioToNode: { requestsPerSec: number; p99: number };
}

async function cannon(url: string, connections: number, durationS: number): Promise<HttpFigures> {
  const result = await autocannon({ url, connections, duration: durationS, pipelining: 1 });
  return {
    requestsPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    meanMs: result.latency.average,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** Warm up, then measure; the figures are the measured part only. */
async function measure(target: Child, options: HttpOptions): Promise<HttpFigures> {
  await waitFor200(`${target.url}/readyz`, target);
  const url = `${target.url}${options.path}`;
  if (options.warmupS > 0) await cannon(url, options.connections, options.warmupS);
  return cannon(url, options.connections, options.durationS);
}

async function measureProcess(spawnTarget: () => Promise<Child>, options: HttpOptions): Promise<HttpFigures & { peakRssMb: number }> {
  const target = await spawnTarget();
  try {
    const rss = sampleRss(target.child.pid!);
    const figures = await measure(target, options);
    return { ...figures, peakRssMb: rss.stop() };
  } finally {
    await target.stop();
  }
}

const ratios = (api: HttpFigures, baseline: HttpFigures) => ({
  requestsPerSec: api.requestsPerSec / baseline.requestsPerSec,
  p99: api.p99Ms / Math.max(baseline.p99Ms, 1e-9),
});

/**
 * GET `path` on a bare node:http server, a bare Koa + @koa/router app and the built API, one after the
 * other, same settings.
 */
export async function runHttp(options: HttpOptions): Promise<HttpResult> {
  const baseline = await measureProcess(spawnBaseline, options);
  const koa = await measureProcess(spawnKoaBaseline, options);
  const api = await measureProcess(() => spawnApi({}, options.apiNodeArgs), options);
  return { api, koa, baseline, ratio: ratios(api, koa), ratioToNode: ratios(api, baseline) };
}
