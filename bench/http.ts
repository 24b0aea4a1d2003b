import autocannon from "autocannon";

import { sampleRss, spawnApi, spawnBaseline, waitFor200, type Child } from "./processes.js";

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
  baseline: HttpFigures;
  ratio: { requestsPerSec: number; p99: number };
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

/** GET `path` on the built API and on a bare node:http server, one after the other, same settings. */
export async function runHttp(options: HttpOptions): Promise<HttpResult> {
  const baselineProcess = await spawnBaseline();
  let baseline: HttpFigures;
  try {
    baseline = await measure(baselineProcess, options);
  } finally {
    await baselineProcess.stop();
  }

  const apiProcess = await spawnApi({}, options.apiNodeArgs);
  let api: HttpFigures;
  let peakRssMb: number;
  try {
    const rss = sampleRss(apiProcess.child.pid!);
    api = await measure(apiProcess, options);
    peakRssMb = rss.stop();
  } finally {
    await apiProcess.stop();
  }
  return {
    api: { ...api, peakRssMb },
    baseline,
    ratio: { requestsPerSec: api.requestsPerSec / baseline.requestsPerSec, p99: api.p99Ms / Math.max(baseline.p99Ms, 1e-9) },
  };
}
