import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions } from "node:dns";
import { isIP } from "node:net";

import { HttpError } from "../framework/errors.js";
import { blockedReason, hostNameProblem, isLoopbackAddress } from "./addresses.js";

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
function sharedLookup(lookup: HostLookup): HostLookup {
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

function hostAllowed(host: string, allowedHosts: readonly string[]): boolean {
  return allowedHosts.some((suffix) => {
    const s = suffix.toLowerCase().replace(/^\*?\./, "");
    return host === s || host.endsWith(`.${s}`);
  });
}

const isLoopbackName = (host: string) => host === "localhost" || host.endsWith(".localhost");

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
    if (!(policy.allowInsecure && isLoopbackAddress(host))) {
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
