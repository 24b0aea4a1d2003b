import { install, type Clock } from "@sinonjs/fake-timers";

export type FakeClock = Clock;

/**
 * A fake clock for unit tests of timing logic: `setTimeout`/`clearTimeout` and `performance.now()` move
 * only when the test ticks (`await clock.tickAsync(ms)` also runs the promise callbacks due on the way).
 * Everything else (Date, setImmediate, I/O) stays real. Uninstall it in an `afterEach`.
 */
export function installClock(): FakeClock {
  return install({ toFake: ["setTimeout", "clearTimeout", "performance"] });
}
