import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { BlockList, isIP } from "node:net";

import { HttpError } from "../framework/errors.js";

/** How host names are resolved: `dns.lookup` (the system's resolver), or a stand-in where DNS cannot run. */
export type HostLookup = (
  hostname: string,
  options: LookupAllOptions,
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export const systemLookup: HostLookup = dnsLookup;

const SHARED_LOOKUPS = new WeakMap<HostLookup, HostLookup>();

/**
 * `lookup`, with the lookups of one name (and options) that are under way at once sharing one call.
 * dns.lookup takes one of libuv's 4 threads for as long as the system's resolver waits (10 s and more
 * for a name whose DNS does not answer): without sharing, a burst of callbacks to one such name took
 * every thread, and every other lookup waited behind it, intake and delivery alike.
 */
export function sharedLookup(lookup: HostLookup): HostLookup {
  const known = SHARED_LOOKUPS.get(lookup);
  if (known) return known;
  const waiting = new Map<string, Array<Parameters<HostLookup>[2]>>();
  const shared: HostLookup = (hostname, options, callback) => {
    const key = `${hostname}\0${JSON.stringify(options)}`;
    const callbacks = waiting.get(key);
    if (callbacks) return void callbacks.push(callback);
    waiting.set(key, [callback]);
    lookup(hostname, options, (error, addresses) => {
      const all = waiting.get(key) ?? [];
      waiting.delete(key);
      for (const each of all) each(error, addresses);
    });
  };
  SHARED_LOOKUPS.set(lookup, shared);
  return shared;
}

/** Where callbacks may go: CALLBACK_ALLOWED_HOSTS, and CALLBACK_ALLOW_INSECURE for local testing. */
export interface CallbackPolicy {
  allowedHosts: readonly string[];
  allowInsecure: boolean;
  /**
   * CALLBACK_TEST_RECEIVER: the one origin (`http://<ip>:<port>`, checked by the settings) that may be
   * called back over http even though its address is private; exactly that address and port.
   */
  testReceiver?: string | undefined;
  /** The resolver for the check before accepting; the system's when not given. */
  lookup?: HostLookup;
}

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

function hostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  return allowedHosts.some((suffix) => {
    const s = suffix.toLowerCase().replace(/^\*?\./, "");
    return host === s || host.endsWith(`.${s}`);
  });
}

const isLoopbackName = (host: string) => host === "localhost" || host.endsWith(".localhost");

// One DNS label of a host name (RFC 1123): letters, digits and inner hyphens, 1 to 63 characters.
const HOST_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

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

/**
 * Resolver failures that say nothing about the name: the resolver could not answer now (a DNS timeout, a
 * server failure, no memory or descriptors), the codes of getaddrinfo (`EAI_*`, as Node names them) and of
 * c-ares. Any other failure (ENOTFOUND: no such name or no address; EINVAL, EAI_FAIL, EAI_BADFLAGS, ...)
 * will not change on a retry.
 */
const TRANSIENT_LOOKUP_ERRORS = new Set(["EAI_AGAIN", "EAI_MEMORY", "EAI_SYSTEM", "EAI_CANCELED", "ETIMEOUT", "ETIMEDOUT", "ESERVFAIL", "ECONNREFUSED", "ECANCELLED", "ENOMEM", "EMFILE", "ENFILE"]);

function refuse(reason: string): HttpError {
  return new HttpError(400, "invalid_callback_uri", `callBackUri refused: ${reason}.`);
}

/**
 * Checks a callBackUri before a job is accepted, so a bad one fails the ADF activity at once.
 * The same address rules are enforced again when connecting (see `guardedLookup`), against DNS rebinding.
 */
export async function checkCallbackUri(value: unknown, policy: CallbackPolicy): Promise<URL> {
  if (typeof value !== "string" || value.length === 0) throw refuse("it must be a non-empty string");
  if (value.length > 4096) throw refuse("it is longer than 4096 characters");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw refuse("it is not an absolute URI");
  }
  if (policy.testReceiver && url.protocol === "http:" && !url.username && !url.password) {
    // An IP literal is never looked up, so this address and port are exactly where the callback goes.
    const receiver = new URL(policy.testReceiver);
    if (url.hostname === receiver.hostname && url.port === receiver.port) return url;
  }
  if (url.protocol !== "https:" && !(policy.allowInsecure && url.protocol === "http:")) {
    throw refuse(policy.allowInsecure ? "only http and https are allowed" : "it must use https");
  }
  if (url.username || url.password) throw refuse("it must not carry credentials");

  const host = url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (isIP(host)) {
    const reason = blockedReason(host, policy.allowInsecure);
    if (reason) throw refuse(`its host is ${reason}`);
    if (!(policy.allowInsecure && LOOPBACK.check(host, isIP(host) === 6 ? "ipv6" : "ipv4"))) {
      throw refuse("its host is an IP address, not a name");
    }
    return url;
  }
  const nameProblem = hostNameProblem(host);
  if (nameProblem) throw refuse(nameProblem);
  const localTest = policy.allowInsecure && isLoopbackName(host);
  if (!localTest && !hostAllowed(host, policy.allowedHosts)) {
    throw refuse(`its host is not under CALLBACK_ALLOWED_HOSTS (${policy.allowedHosts.join(", ")})`);
  }
  const addresses = await resolve(host, sharedLookup(policy.lookup ?? systemLookup)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== undefined && !TRANSIENT_LOOKUP_ERRORS.has(error.code)) {
      throw refuse(error.code === "ENOTFOUND" || error.code === "ENODATA" ? "its host does not resolve" : `its host cannot be resolved (${error.code})`);
    }
    // Not resolvable right now (a DNS timeout or server failure) is not the caller's fault, and a refusal
    // would fail the Webhook activity for good (it has no retry policy). So accept: delivery resolves the
    // name again, retries while DNS fails, and checks the addresses when connecting (guardedLookup).
    return [];
  });
  for (const { address } of addresses) {
    const reason = blockedReason(address, policy.allowInsecure);
    if (reason) throw refuse(`its host resolves to ${reason}`);
  }
  return url;
}

function resolve(host: string, lookup: HostLookup): Promise<LookupAddress[]> {
  return new Promise((resolvePromise, reject) => lookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolvePromise(addresses))));
}

/** Raised when a callback's host resolves to an address it may not reach; never retried. */
export class BlockedAddressError extends Error {
  override name = "BlockedAddressError";
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that refuses blocked addresses at connect time. `dial` (tests only, see
 * `CallbackTransport`) maps an address that passed the check to the one really connected to.
 */
export function guardedLookup(allowInsecure: boolean, lookup: HostLookup = systemLookup, dial?: (address: string) => string) {
  const shared = sharedLookup(lookup);
  return (hostname: string, options: object, callback: LookupCallback): void => {
    shared(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const blocked = addresses.find(({ address }) => blockedReason(address, allowInsecure));
      if (blocked) {
        return callback(new BlockedAddressError(`callback host resolves to ${blockedReason(blocked.address, allowInsecure)}`), []);
      }
      const routed = dial ? addresses.map(({ address }) => ({ address: dial(address), family: isIP(dial(address)) })) : addresses;
      const all = (options as { all?: boolean }).all;
      if (all) return callback(null, routed);
      const [first] = routed;
      return callback(null, first!.address, first!.family);
    });
  };
}
