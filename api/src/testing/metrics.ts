/** The API's /metrics text, from its metrics port (a RunningApi's or an ApiProcess's `metricsUrl`). */
export async function metricsText(api: { metricsUrl: string }): Promise<string> {
  return (await fetch(`${api.metricsUrl}/metrics`)).text();
}

/**
 * The value of one series, named exactly as /metrics prints it (`jobs_running`,
 * `jobs_total{job="gated",outcome="rejected"}`), or `missing` when no such line is printed (a counter with
 * labels has none until it is first counted).
 */
export async function metric(api: { metricsUrl: string }, series: string, missing = Number.NaN): Promise<number> {
  const escaped = series.replace(/[{}()[\]."+*?^$|\\]/g, "\\$&");
  return Number(new RegExp(`^${escaped} (\\S+)$`, "m").exec(await metricsText(api))?.[1] ?? missing);
}

/** `simulate` jobs the API has started (running now, or already ended), from its metrics at `base`. */
export async function jobsStarted(base: string): Promise<number> {
  const text = await metricsText({ metricsUrl: base });
  const running = Number(/^jobs_running (\d+)$/m.exec(text)?.[1] ?? NaN);
  const ended = [...text.matchAll(/^jobs_total\{job="simulate",outcome="(succeeded|failed|timed_out|interrupted)"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[2]), 0);
  return running + ended;
}
