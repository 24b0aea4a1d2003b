import type { Deadlined } from "../activities/deadlines.js";

/** For Deadlines' unit tests: an entry with a name, due at `deadline`, stopped when the test says. */
export class DeadlineEntry implements Deadlined<DeadlineEntry> {
  stopped = false;
  older: DeadlineEntry | undefined;
  newer: DeadlineEntry | undefined;
  constructor(
    readonly name: string,
    readonly deadline: number,
  ) {}
}
