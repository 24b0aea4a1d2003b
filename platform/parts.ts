import { throwIfInterrupted } from "./interrupts.js";

/**
 * One part of the platform: what `up` does for it and what `down` does to undo that. The platform is
 * one ordered table of parts (index.ts): `up` starts them in order, `down` stops them in the reverse one.
 */
export interface Part {
  name: string;
  start(): Promise<void>;
  /** Undoes `start`, whether it completed or not; a note for the log when there is something to say. */
  stop(): Promise<string | void>;
}

export interface Failure {
  part: string;
  error: string;
}

/**
 * Starts the parts in order. When one fails (or the process is interrupted), `undo` runs (by default:
 * stop every part, in the reverse order) and the error says what failed and what could not be undone.
 * `"keep"`: this `up` joined a platform an earlier one started, which is not its to take down (its
 * stacks live in it), so nothing is undone and the error says so.
 */
export async function startParts(parts: readonly Part[], log: (line: string) => void, undo: (() => Promise<Failure[]>) | "keep" = () => stopParts(parts, log)): Promise<void> {
  let current: Part | undefined;
  try {
    for (current of parts) {
      throwIfInterrupted();
      await current.start();
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`${current?.name ?? "up"} failed: ${message}`);
    if (undo === "keep") {
      throw new Error(`up failed at ${current?.name}: ${message}\n(the platform an earlier up started is left as it is, with its stacks: npm run platform -- down removes it)`, { cause: error });
    }
    log("undoing what up did ...");
    const failures = await undo();
    throw new Error(`up failed at ${current?.name}: ${message}${failures.length > 0 ? `\nand could not undo:\n${describe(failures)}` : "\n(everything it did is undone)"}`, { cause: error });
  }
}

/** Stops every part, in the reverse order, each one even when an earlier one failed; returns what failed. */
export async function stopParts(parts: readonly Part[], log: (line: string) => void): Promise<Failure[]> {
  const failures: Failure[] = [];
  for (const part of [...parts].reverse()) {
    try {
      const note = await part.stop();
      if (note) log(note);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.push({ part: part.name, error: message });
      log(`${part.name}: could not undo: ${message}`);
    }
  }
  return failures;
}

export const describe = (failures: readonly Failure[]): string => failures.map((f) => `- ${f.part}: ${f.error}`).join("\n");
