/* eslint-disable @typescript-eslint/no-explicit-any -- the recorded inputs are untyped JSON */

/**
 * The docker provider's diff of two image inputs (pulumi-docker provider/provider.go `Diff` and
 * `diffUpdates`): any changed input key counts, except `registry` when only its username or password
 * changed. A diff means an update: a rebuild and a push.
 */
export function dockerImageDiff(olds: Record<string, any>, news: Record<string, any>): string[] {
  const keys = new Set([...Object.keys(olds), ...Object.keys(news)]);
  return [...keys].filter((key) => {
    if (JSON.stringify(olds[key]) === JSON.stringify(news[key])) return false;
    if (key === "registry" && olds[key] && news[key]) return JSON.stringify(olds[key].server) !== JSON.stringify(news[key].server);
    return true;
  });
}
