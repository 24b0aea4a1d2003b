/**
 * A mocha global fixture (loaded by .mocharc.json's `require`): fails the run when something a test
 * started outlives the tests. Mocha runs with `exit: false`, so a server, socket, timer or child
 * process left open keeps the process alive: locally that hides a leak, in CI it hangs the job. Once
 * the last test has finished, the process gets LEAK_GRACE_MS to end on its own; if it is still
 * running then, what keeps it alive is printed and it exits non-zero.
 */

/** Long enough for sockets closed by the tests to finish closing; short enough not to stall CI. */
const DEFAULT_GRACE_MS = 10_000;

export function mochaGlobalTeardown(): void {
  const graceMs = Number(process.env.LEAK_GRACE_MS ?? DEFAULT_GRACE_MS);
  // unref: this timer alone must not keep the process alive; it fires only if something else does.
  setTimeout(() => {
    const open = describeOpenResources();
    console.error(
      `\nLeaked handles: the tests finished ${graceMs} ms ago, but the process is still kept alive by:\n` +
        open.map((line) => `  - ${line}`).join("\n") +
        "\nClose every server, socket, timer and child process a test starts (in a finally block or an after hook).",
    );
    // Mocha sets the exit code (its failure count) in an 'exit' listener; this one runs after it.
    process.on("exit", () => {
      process.exitCode = Number(process.exitCode) || 1;
    });
    process.exit();
  }, graceMs).unref();
}

/** The resources keeping the event loop alive, with addresses, commands or timer delays where Node exposes them. */
function describeOpenResources(): string[] {
  const counts = new Map<string, number>();
  for (const kind of process.getActiveResourcesInfo()) counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const lines = [...counts].map(([kind, count]) => `${kind} x${count}`);
  // Node's undocumented handle list gives the details that name the culprit; use it only if present.
  const handles = (process as unknown as { _getActiveHandles?: () => unknown[] })._getActiveHandles?.() ?? [];
  for (const handle of handles) {
    const detail = describeHandle(handle);
    if (detail) lines.push(detail);
  }
  return lines;
}

function describeHandle(handle: unknown): string | undefined {
  const h = handle as {
    constructor?: { name?: string };
    address?: () => unknown;
    remoteAddress?: string;
    remotePort?: number;
    localPort?: number;
    pid?: number;
    spawnargs?: string[];
    fd?: number;
  };
  const kind = h.constructor?.name ?? "handle";
  if (typeof h.fd === "number" && h.fd <= 2) return undefined; // stdin, stdout, stderr
  if (h.spawnargs) return `${kind} pid ${h.pid}: ${h.spawnargs.join(" ").slice(0, 200)}`;
  if (h.remoteAddress) return `${kind} ${h.localPort} -> ${h.remoteAddress}:${h.remotePort}`;
  if (typeof h.address === "function") {
    const address = h.address();
    if (address) return `${kind} listening on ${JSON.stringify(address)}`;
  }
  return undefined;
}
