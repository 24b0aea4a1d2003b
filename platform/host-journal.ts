import * as fs from "node:fs";

/**
 * What `up` changed on the host outside the state directory, written before each change so that `down`
 * (or an `up` that fails half-way) undoes exactly that. Each entry is recorded once, at the first `up`
 * that makes the change, so a second `up` never takes the platform's own values for the host's.
 */
export interface HostJournal {
  /** Kernel settings the platform set, with the host's value before. */
  sysctls: { name: string; before: string; set: string }[];
  /** Network interfaces the platform created. */
  links: string[];
  /** Host paths that programs the platform runs create (upstream fixes them), and whether each existed before the first `up`. */
  paths: Record<string, boolean>;
}

const empty = (): HostJournal => ({ sysctls: [], links: [], paths: {} });

export function readJournal(file: string): HostJournal {
  try {
    return { ...empty(), ...(JSON.parse(fs.readFileSync(file, "utf8")) as Partial<HostJournal>) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return empty();
    throw new Error(`${file} is unreadable, so what up changed on the host is unknown: ${(error as Error).message}`);
  }
}

/** Reads, changes and writes the journal back (atomically: a crash leaves the old one or the new one). */
export function updateJournal(file: string, change: (journal: HostJournal) => void): HostJournal {
  const journal = readJournal(file);
  change(journal);
  fs.writeFileSync(`${file}.part`, JSON.stringify(journal, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(`${file}.part`, file);
  return journal;
}
