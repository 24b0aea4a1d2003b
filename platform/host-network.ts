import { readJournal, updateJournal } from "./host-journal.js";
import { run } from "./processes.js";

/**
 * The platform's bridges. A bridge is made only when its range is free on this host (no address, no
 * route in it), recorded before it is made, and deleted at `down` only if the platform made it: an
 * interface of the same name that the platform did not make is refused, never reused or deleted.
 */
export interface Bridge {
  name: string;
  cidr: string;
  address: string;
}

export type Ip = (args: string[]) => Promise<string>;
const hostIp: Ip = (args) => run("ip", args);

/** An IPv4 range as [first address, prefix length]. */
function parseCidr(cidr: string): [number, number] {
  const [address, prefix = "32"] = cidr.split("/");
  const octets = address.split(".").map(Number);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255)) throw new Error(`not an IPv4 range: ${cidr}`);
  const bits = Number(prefix);
  const value = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return [value - (value % size), bits];
}

export function overlaps(a: string, b: string): boolean {
  const [startA, bitsA] = parseCidr(a);
  const [startB, bitsB] = parseCidr(b);
  const endA = startA + 2 ** (32 - bitsA);
  const endB = startB + 2 ** (32 - bitsB);
  return startA < endB && startB < endA;
}

interface AddrInfo {
  ifname: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}
interface Route {
  dst: string;
  dev?: string;
  table?: string;
}

/** What uses an address of `cidr` on this host, from `ip -j addr` and `ip -j route show table all`; undefined when nothing does. */
export function rangeUser(cidr: string, addrJson: string, routeJson: string): string | undefined {
  for (const link of JSON.parse(addrJson || "[]") as AddrInfo[]) {
    for (const a of link.addr_info ?? []) {
      if (a.family === "inet" && a.local && overlaps(cidr, `${a.local}/${a.prefixlen ?? 32}`)) return `${link.ifname} has the address ${a.local}/${a.prefixlen}`;
    }
  }
  for (const route of JSON.parse(routeJson || "[]") as Route[]) {
    if (route.dst === "default" || route.dst.includes(":")) continue;
    if (overlaps(cidr, route.dst)) return `a route to ${route.dst}${route.dev ? ` on ${route.dev}` : ""}${route.table ? ` (table ${route.table})` : ""}`;
  }
  return undefined;
}

/** Makes `bridge` with its address, or takes back the one an earlier `up` made; refuses a range or a name in use. */
export async function ensureBridge(bridge: Bridge, journalFile: string, ip: Ip = hostIp): Promise<void> {
  const prefix = bridge.cidr.split("/")[1];
  const exists = await ip(["link", "show", bridge.name]).then(() => true, () => false);
  const ours = readJournal(journalFile).links.includes(bridge.name);
  if (exists && !ours) throw new Error(`a network interface named ${bridge.name} exists and this platform did not make it: not touching it`);
  if (!exists) {
    const user = rangeUser(bridge.cidr, await ip(["-j", "-4", "addr", "show"]), await ip(["-j", "-4", "route", "show", "table", "all"]));
    if (user) throw new Error(`the range ${bridge.cidr} that ${bridge.name} needs is in use on this host: ${user}`);
    updateJournal(journalFile, (j) => {
      if (!j.links.includes(bridge.name)) j.links.push(bridge.name);
    });
    await ip(["link", "add", bridge.name, "type", "bridge"]);
  }
  const addresses = await ip(["-o", "-4", "addr", "show", "dev", bridge.name]);
  if (!addresses.includes(` ${bridge.address}/${prefix} `)) await ip(["addr", "add", `${bridge.address}/${prefix}`, "dev", bridge.name]);
  await ip(["link", "set", bridge.name, "up"]);
}

/** Deletes `bridge` if this platform made it. */
export async function removeBridge(bridge: Bridge, journalFile: string, ip: Ip = hostIp): Promise<string | void> {
  if (!readJournal(journalFile).links.includes(bridge.name)) return;
  if (await ip(["link", "show", bridge.name]).then(() => true, () => false)) await ip(["link", "delete", bridge.name]);
  updateJournal(journalFile, (j) => (j.links = j.links.filter((l) => l !== bridge.name)));
  return `${bridge.name}: deleted`;
}
