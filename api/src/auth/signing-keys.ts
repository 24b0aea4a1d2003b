import { createRemoteJWKSet, customFetch, errors, type FetchImplementation, type JWTVerifyGetKey } from "jose";

import type { Logger } from "../framework/logging.js";

/** The signing keys could not be fetched and none were fetched before: the caller is not at fault. */
export class KeysUnavailable extends Error {
  override name = "KeysUnavailable";
}

/** The key document was larger than the most it may be (see MAX_KEYS_DOCUMENT_BYTES). */
class KeysDocumentTooLarge extends Error {
  override name = "KeysDocumentTooLarge";
}

export interface SigningKeysOptions {
  url: URL;
  /** How long fetched keys are used before they are fetched again, in the background. */
  maxAgeMs: number;
  /** Each fetch gets this long, the document read included. */
  timeoutMs?: number;
  /** After a fetch, a token signed by an unknown key makes the next one no sooner than this. */
  cooldownMs?: number;
}

/**
 * A tenant's key document is a few kilobytes (a handful of RSA keys); this leaves room for many more,
 * and none for a document that would take the process's memory (issue 25: a 400 MB answer took RSS to
 * 2.5 GB, as jose reads the whole body before parsing it).
 */
export const MAX_KEYS_DOCUMENT_BYTES = 256 * 1024;

/** After a failed fetch, none before this wait, doubled with each failure in a row up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 60_000;

/**
 * The tenant's signing keys, from its key document (jose's remote key set, which fetches, checks and
 * caches it), served so that no request waits on a slow or failing key endpoint once keys are known:
 * - keys older than `maxAgeMs` are still used while a fresh copy is fetched in the background
 *   (stale-while-revalidate: before, every request waited on the refetch, 5 s each with an endpoint that
 *   hangs);
 * - a token signed by a key not in the set makes one fetch (a key rotation), awaited, at most every
 *   `cooldownMs`;
 * - a failed fetch is retried only after a wait that doubles with each failure (1 s to 60 s), whether it
 *   was a refresh, a rotation or the first fetch (before, a failure set no cooldown at all); until keys
 *   are first fetched, requests get KeysUnavailable at once meanwhile;
 * - the key document is read up to MAX_KEYS_DOCUMENT_BYTES, whatever its Content-Length says.
 * jose's own expiry and cooldown are turned off (Infinity): they make the request that finds the keys
 * stale wait for the fetch, and count the cooldown from the last success only.
 */
export class SigningKeys {
  readonly #remote: ReturnType<typeof createRemoteJWKSet>;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  /** When the keys in use were fetched, and when the last fetch (success or failure) started. */
  #fetchedAt = 0;
  #lastAttempt = Number.NEGATIVE_INFINITY;
  #failures = 0;
  #retryAt = 0;
  #fetching: Promise<void> | undefined;

  constructor({ url, maxAgeMs, timeoutMs = 5_000, cooldownMs = 30_000 }: SigningKeysOptions) {
    this.#maxAgeMs = maxAgeMs;
    this.#cooldownMs = cooldownMs;
    this.#remote = createRemoteJWKSet(url, {
      timeoutDuration: timeoutMs,
      cacheMaxAge: Number.POSITIVE_INFINITY,
      cooldownDuration: Number.POSITIVE_INFINITY,
      [customFetch]: fetchAtMost(MAX_KEYS_DOCUMENT_BYTES),
    });
  }

  /** The key a token's header names, for jwtVerify; `log` tells of fetches that fail. */
  keyFor(log: Logger | undefined): JWTVerifyGetKey {
    return async (header, token) => {
      if (this.#fetchedAt === 0) {
        await this.#fetch(log).catch((error: unknown) => {
          throw new KeysUnavailable("the signing keys could not be fetched", { cause: error });
        });
      } else if (Date.now() - this.#fetchedAt >= this.#maxAgeMs && this.#mayFetch()) {
        this.#fetch(log).catch((error: unknown) => log?.warn({ err: error }, "the Entra ID signing keys could not be fetched again: using the ones fetched before"));
      }
      try {
        return await this.#remote(header, token);
      } catch (error) {
        if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - this.#lastAttempt < this.#cooldownMs || !this.#mayFetch()) throw error;
        // A key not in the set: perhaps a new one (a rotation). One fetch, then the answer it gives.
        await this.#fetch(log).catch((failure: unknown) => log?.warn({ err: failure }, "the Entra ID signing keys could not be fetched for an unknown key id"));
        return this.#remote(header, token);
      }
    };
  }

  /** Whether a fetch may start now: none is running, and the wait after a failure is over. */
  #mayFetch(): boolean {
    return !this.#fetching && Date.now() >= this.#retryAt;
  }

  /**
   * One fetch at a time, shared by every request that asks meanwhile; none while the wait after a
   * failure lasts (it rejects at once then).
   */
  #fetch(log: Logger | undefined): Promise<void> {
    if (this.#fetching) return this.#fetching;
    const now = Date.now();
    if (now < this.#retryAt) return Promise.reject(new Error(`the last ${this.#failures} fetches failed: the next in ${this.#retryAt - now} ms`));
    this.#lastAttempt = now;
    this.#fetching = this.#remote.reload().then(
      () => {
        this.#fetchedAt = Date.now();
        this.#failures = 0;
        this.#retryAt = 0;
        this.#fetching = undefined;
      },
      (error: unknown) => {
        this.#failures++;
        this.#retryAt = Date.now() + Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (this.#failures - 1));
        this.#fetching = undefined;
        log?.debug({ failures: this.#failures, retryInMs: this.#retryAt - Date.now() }, "Entra ID signing keys: a fetch failed; the next waits");
        throw error;
      },
    );
    return this.#fetching;
  }
}

/**
 * A fetch for jose that reads at most `maxBytes` of the key document (decoded): a larger Content-Length
 * is refused before the body is read, and a body that runs past the bound is cut there. jose's timeout
 * signal covers the read too.
 */
function fetchAtMost(maxBytes: number): FetchImplementation {
  return async (url, options) => {
    const response = await fetch(url, options);
    if (response.status !== 200) {
      // jose refuses any other status without reading the body: let the connection go now.
      await response.body?.cancel();
      return new Response(null, { status: response.status });
    }
    if (Number(response.headers.get("content-length")) > maxBytes) {
      await response.body?.cancel();
      throw new KeysDocumentTooLarge(`the key document declares ${response.headers.get("content-length")} bytes, more than ${maxBytes}`);
    }
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    if (response.body) {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        // Leaving the loop early cancels the stream.
        if (bytes > maxBytes) throw new KeysDocumentTooLarge(`the key document is larger than ${maxBytes} bytes`);
        chunks.push(chunk);
      }
    }
    return new Response(Buffer.concat(chunks), { status: 200 });
  };
}
