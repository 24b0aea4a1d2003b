import { spawnApi, waitFor200 } from "./processes.js";

export interface ColdStartResult {
  runs: number[];
  medianMs: number;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** Time from spawning `node api/dist/listen.js` to its first 200 on /readyz, `runs` times. */
export async function runColdStart(runs: number): Promise<ColdStartResult> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const api = await spawnApi();
    try {
      const ready = await waitFor200(`${api.url}/readyz`, api);
      times.push(ready - api.startedAt);
    } finally {
      await api.stop();
    }
  }
  return { runs: times, medianMs: median(times) };
}
