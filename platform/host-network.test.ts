import * as assert from "node:assert/strict";
import * as path from "node:path";

import { readJournal } from "./host-journal.js";
import { ensureBridge, overlaps, rangeUser, removeBridge } from "./host-network.js";
import { POD_BRIDGE } from "./network.js";
import { fakeIp, tempDir } from "./testing/fakes.js";

const ETH0 = { ifname: "eth0", addr_info: [{ family: "inet", local: "192.0.2.2", prefixlen: 24 }] };
const DEFAULT_ROUTE = { dst: "default", gateway: "192.0.2.1", dev: "eth0" };

describe("platform: the bridges", () => {
  let tmp: ReturnType<typeof tempDir>;
  let journal: string;
  beforeEach(() => {
    tmp = tempDir();
    journal = path.join(tmp.dir, "host-changes.json");
  });
  afterEach(() => tmp.remove());

  it("know when two ranges overlap", () => {
    assert.equal(overlaps("10.244.0.0/24", "10.244.0.0/16"), true);
    assert.equal(overlaps("10.244.0.0/24", "10.244.0.77"), true);
    assert.equal(overlaps("10.244.0.0/24", "10.244.1.0/24"), false);
    assert.equal(overlaps("10.244.0.0/24", "10.0.0.0/8"), true);
    assert.equal(overlaps("10.244.0.0/24", "192.168.0.0/16"), false);
  });

  it("find what uses a range: an address or a route (the default route does not count)", () => {
    assert.equal(rangeUser("10.244.0.0/24", JSON.stringify([ETH0]), JSON.stringify([DEFAULT_ROUTE])), undefined);
    const vpn = { ifname: "wg0", addr_info: [{ family: "inet", local: "10.244.0.9", prefixlen: 32 }] };
    assert.equal(rangeUser("10.244.0.0/24", JSON.stringify([ETH0, vpn]), "[]"), "wg0 has the address 10.244.0.9/32");
    assert.equal(rangeUser("10.244.0.0/24", "[]", JSON.stringify([DEFAULT_ROUTE, { dst: "10.0.0.0/8", dev: "tun0" }])), "a route to 10.0.0.0/8 on tun0");
  });

  it("is made when its range is free, recorded first, and deleted by down", async () => {
    const ip = fakeIp({ links: ["lo", "eth0"], addrs: [ETH0], routes: [DEFAULT_ROUTE] });
    await ensureBridge(POD_BRIDGE, journal, ip);
    assert.deepEqual(readJournal(journal).links, [POD_BRIDGE.name]);
    assert.ok(ip.calls.some((c) => c.join(" ") === `addr add 10.244.0.1/24 dev ${POD_BRIDGE.name}`));
    assert.match(String(await removeBridge(POD_BRIDGE, journal, ip)), /deleted/);
    assert.ok(ip.calls.some((c) => c.join(" ") === `link delete ${POD_BRIDGE.name}`));
    assert.deepEqual(readJournal(journal).links, []);
  });

  it("refuses to start on a range in use, and makes nothing", async () => {
    const ip = fakeIp({ links: ["lo", "eth0", "br-lab"], addrs: [ETH0, { ifname: "br-lab", addr_info: [{ family: "inet", local: "10.244.0.1", prefixlen: 16 }] }] });
    await assert.rejects(ensureBridge(POD_BRIDGE, journal, ip), /the range 10\.244\.0\.0\/24 that cni-platform0 needs is in use on this host: br-lab has the address 10\.244\.0\.1\/16/);
    assert.ok(!ip.calls.some((c) => c[0] === "link" && c[1] === "add"));
  });

  it("an interface of that name it did not make is neither used nor deleted", async () => {
    const ip = fakeIp({ links: ["lo", "eth0", POD_BRIDGE.name] });
    await assert.rejects(ensureBridge(POD_BRIDGE, journal, ip), /a network interface named cni-platform0 exists and this platform did not make it/);
    assert.equal(await removeBridge(POD_BRIDGE, journal, ip), undefined);
    assert.ok(!ip.calls.some((c) => c[0] === "link" && (c[1] === "delete" || c[1] === "add")));
  });
});
