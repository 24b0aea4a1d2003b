import * as assert from "node:assert/strict";

import { identityOf, parsePidFile, procfs, startTimeOf, stillRunning, type ProcessIdentity } from "./process-identity.js";
import { stopProcess, type Signaller } from "./processes.js";
import { fakeProcesses, statLine } from "./testing/fakes.js";

const ETCD = ["/cache/etcd-v3.6.16/etcd", "--name=platform", "--data-dir=/state/etcd"];
const recorded: ProcessIdentity = { pid: 4242, startTime: "90210", cmdline: ETCD };

/** A signaller over a fake process table; a signalled process exits unless it ignores `ignores`. */
function signaller(processes: Map<number, { stat: string; argv: string[] }>, ignores: NodeJS.Signals[] = []): Signaller & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    proc: fakeProcesses(processes),
    kill: (pid, signal) => {
      sent.push(`${signal} ${pid}`);
      if (!ignores.includes(signal)) processes.delete(pid);
    },
    sleep: async () => undefined,
  };
}

describe("platform: a PID file's process", () => {
  it("is known by its start time (field 22 of /proc/<pid>/stat), even with spaces and parentheses in its name", () => {
    assert.equal(startTimeOf(statLine(7, "etcd", "90210")), "90210");
    assert.equal(startTimeOf(statLine(7, "a) (b c", "555")), "555");
    // This process, for real.
    const me = identityOf(process.pid, procfs);
    assert.ok(me && /^\d+$/.test(me.startTime) && me.cmdline[0] === process.argv0);
  });

  it("still runs only while PID, start time and command line all match", () => {
    const same = new Map([[4242, { stat: statLine(4242, "etcd", "90210"), argv: ETCD }]]);
    assert.equal(stillRunning(recorded, fakeProcesses(same)), true);
    const reused = new Map([[4242, { stat: statLine(4242, "etcd", "99999"), argv: ETCD }]]);
    assert.equal(stillRunning(recorded, fakeProcesses(reused)), false, "another process with the same PID, started later");
    const other = new Map([[4242, { stat: statLine(4242, "sshd", "90210"), argv: ["/usr/sbin/sshd", "-D"] }]]);
    assert.equal(stillRunning(recorded, fakeProcesses(other)), false, "another program");
    const zombie = new Map([[4242, { stat: statLine(4242, "etcd", "90210", "Z"), argv: ETCD }]]);
    assert.equal(stillRunning(recorded, fakeProcesses(zombie)), false);
    assert.equal(stillRunning(recorded, fakeProcesses(new Map())), false);
  });

  it("is not identified by a bare PID, as older PID files held", () => {
    assert.equal(parsePidFile("4242"), undefined);
    assert.deepEqual(parsePidFile(JSON.stringify(recorded)), recorded);
  });

  describe("when stopped", () => {
    it("gets SIGTERM when it is the recorded process", async () => {
      const host = signaller(new Map([[4242, { stat: statLine(4242, "etcd", "90210"), argv: ETCD }]]));
      assert.match(await stopProcess("etcd", recorded, 1000, host), /stopped \(PID 4242\)/);
      assert.deepEqual(host.sent, ["SIGTERM 4242"]);
    });

    it("gets SIGKILL when it outlives the grace period", async () => {
      const host = signaller(new Map([[4242, { stat: statLine(4242, "etcd", "90210"), argv: ETCD }]]), ["SIGTERM"]);
      assert.match(await stopProcess("etcd", recorded, 0, host), /killed/);
      assert.deepEqual(host.sent, ["SIGTERM 4242", "SIGKILL 4242"]);
    });

    it("is not signalled when its PID now belongs to another process (after a reboot or a crash)", async () => {
      const host = signaller(new Map([[4242, { stat: statLine(4242, "sshd", "12"), argv: ["/usr/sbin/sshd", "-D"] }]]));
      assert.match(await stopProcess("etcd", recorded, 1000, host), /PID 4242 is now another process: not signalled/);
      assert.deepEqual(host.sent, []);
    });
  });
});
