import { BlockList, isIP } from "node:net";

/**
 * Which addresses and host names a callback may reach, as pure rules (no lookup, no I/O): the callback
 * check at intake and the settings schema (CALLBACK_TEST_RECEIVER, host suffixes) judge by the same ones.
 */

/**
 * Addresses a callback must never reach, whatever a name resolves to: every entry of IANA's IPv4 and IPv6
 * Special-Purpose Address Registries (iana.org/assignments/iana-ipv4-special-registry and
 * iana-ipv6-special-registry, as of 2025; even the "globally reachable" ones: no Data Factory host lives
 * there), the multicast ranges, and Azure's platform endpoint. Loopback is judged apart (see LOOPBACK),
 * and so are private ranges, only to name them in the refusal.
 */
const ALWAYS_BLOCKED = new BlockList();
// IPv4 Special-Purpose Address Registry (RFC 6890 and its updates)
ALWAYS_BLOCKED.addSubnet("0.0.0.0", 8, "ipv4"); // "this network" (RFC 791)
ALWAYS_BLOCKED.addSubnet("169.254.0.0", 16, "ipv4"); // link-local (RFC 3927), including 169.254.169.254 (IMDS)
ALWAYS_BLOCKED.addSubnet("192.0.0.0", 24, "ipv4"); // IETF protocol assignments (RFC 6890): DS-Lite, PCP/TURN anycast, NAT64 discovery
ALWAYS_BLOCKED.addSubnet("192.0.2.0", 24, "ipv4"); // documentation, TEST-NET-1 (RFC 5737)
ALWAYS_BLOCKED.addSubnet("192.31.196.0", 24, "ipv4"); // AS112-v4 (RFC 7535)
ALWAYS_BLOCKED.addSubnet("192.52.193.0", 24, "ipv4"); // AMT (RFC 7450)
ALWAYS_BLOCKED.addSubnet("192.88.99.0", 24, "ipv4"); // deprecated 6to4 relay anycast (RFC 7526)
ALWAYS_BLOCKED.addSubnet("192.175.48.0", 24, "ipv4"); // direct delegation AS112 service (RFC 7534)
ALWAYS_BLOCKED.addSubnet("198.51.100.0", 24, "ipv4"); // documentation, TEST-NET-2 (RFC 5737)
ALWAYS_BLOCKED.addSubnet("203.0.113.0", 24, "ipv4"); // documentation, TEST-NET-3 (RFC 5737)
ALWAYS_BLOCKED.addSubnet("224.0.0.0", 3, "ipv4"); // multicast (224/4), reserved (240/4, RFC 1112) and limited broadcast (255.255.255.255/32)
ALWAYS_BLOCKED.addAddress("168.63.129.16", "ipv4"); // Azure's platform endpoint (WireServer)
// IPv6 Special-Purpose Address Registry (RFC 6890 and its updates)
ALWAYS_BLOCKED.addAddress("::", "ipv6"); // unspecified (RFC 4291)
ALWAYS_BLOCKED.addSubnet("::", 96, "ipv6"); // IPv4-compatible (deprecated, RFC 4291): embeds any IPv4 address
ALWAYS_BLOCKED.addSubnet("64:ff9b::", 96, "ipv6"); // IPv4-IPv6 translation (RFC 6052)
ALWAYS_BLOCKED.addSubnet("64:ff9b:1::", 48, "ipv6"); // local-use IPv4/IPv6 translation (RFC 8215)
ALWAYS_BLOCKED.addSubnet("100::", 64, "ipv6"); // discard-only (RFC 6666)
ALWAYS_BLOCKED.addSubnet("100:0:0:1::", 64, "ipv6"); // dummy IPv6 prefix (RFC 9780)
ALWAYS_BLOCKED.addSubnet("2001::", 23, "ipv6"); // IETF protocol assignments (RFC 2928): Teredo, benchmarking, AMT, AS112, ORCHID, ...
ALWAYS_BLOCKED.addSubnet("2001:db8::", 32, "ipv6"); // documentation (RFC 3849)
ALWAYS_BLOCKED.addSubnet("2002::", 16, "ipv6"); // 6to4 (RFC 3056): embeds an IPv4 address
ALWAYS_BLOCKED.addSubnet("2620:4f:8000::", 48, "ipv6"); // direct delegation AS112 service (RFC 7534)
ALWAYS_BLOCKED.addSubnet("3fff::", 20, "ipv6"); // documentation (RFC 9637)
ALWAYS_BLOCKED.addSubnet("5f00::", 16, "ipv6"); // segment routing SIDs (RFC 9602)
ALWAYS_BLOCKED.addSubnet("fe80::", 10, "ipv6"); // link-local unicast (RFC 4291)
ALWAYS_BLOCKED.addSubnet("fec0::", 10, "ipv6"); // site-local (deprecated, RFC 3879)
ALWAYS_BLOCKED.addSubnet("ff00::", 8, "ipv6"); // multicast (RFC 4291)

/**
 * IPv4-mapped IPv6 (::ffff:0:0/96, RFC 4291), checked only for IPv6 literals: BlockList matches an IPv6
 * rule for this range against every IPv4 address too, and applies its IPv4 rules to mapped addresses
 * already, so the mapped form of a blocked IPv4 address is refused for its own reason first.
 */
const IPV4_MAPPED = new BlockList();
IPV4_MAPPED.addSubnet("::ffff:0:0", 96, "ipv6");

const PRIVATE = new BlockList();
PRIVATE.addSubnet("10.0.0.0", 8, "ipv4"); // private-use (RFC 1918)
PRIVATE.addSubnet("172.16.0.0", 12, "ipv4"); // private-use (RFC 1918)
PRIVATE.addSubnet("192.168.0.0", 16, "ipv4"); // private-use (RFC 1918)
PRIVATE.addSubnet("100.64.0.0", 10, "ipv4"); // shared address space, carrier-grade NAT (RFC 6598), used by some cluster networks
PRIVATE.addSubnet("198.18.0.0", 15, "ipv4"); // benchmarking (RFC 2544)
PRIVATE.addSubnet("fc00::", 7, "ipv6"); // unique-local (RFC 4193)

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4"); // loopback (RFC 1122)
LOOPBACK.addAddress("::1", "ipv6"); // loopback (RFC 4291)

/** Whether an IP address is a loopback one (127.0.0.0/8, ::1). */
export function isLoopbackAddress(address: string): boolean {
  return LOOPBACK.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
}

/** Why an address may not be called back, or undefined when it may. */
export function blockedReason(address: string, allowInsecure: boolean): string | undefined {
  // BlockList applies its IPv4 rules to IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) too.
  const ip = address;
  const type = isIP(ip) === 6 ? "ipv6" : "ipv4";
  if (LOOPBACK.check(ip, type)) return allowInsecure ? undefined : "a loopback address";
  if (ALWAYS_BLOCKED.check(ip, type)) return "a link-local, metadata or reserved address";
  if (PRIVATE.check(ip, type)) return "a private address";
  if (type === "ipv6" && IPV4_MAPPED.check(ip, type)) return "an IPv4-mapped (reserved) address";
  return undefined;
}

// One DNS label of a host name (RFC 1123): letters, digits and inner hyphens, 1 to 63 characters.
export const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why a host name (lower case, as URL makes it; IDNs already in punycode) can never resolve, or
 * undefined: longer than 253 characters, a label longer than 63 or empty, or a character a host name
 * cannot have. Such a name is refused before any lookup (the system's resolver fails it with EINVAL,
 * or sends it to DNS for nothing).
 */
export function hostNameProblem(host: string): string | undefined {
  const name = host.endsWith(".") ? host.slice(0, -1) : host;
  if (name.length > 253) return "its host name is longer than 253 characters";
  for (const label of name.split(".")) {
    if (label.length === 0) return "its host name has an empty label";
    if (label.length > 63) return "its host name has a label longer than 63 characters";
    if (!HOST_LABEL.test(label)) return "its host name has a label of something other than letters, digits and inner hyphens";
  }
  return undefined;
}
