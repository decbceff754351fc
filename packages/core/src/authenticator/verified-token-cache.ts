import { LRUCache } from 'lru-cache';
import { sha256Key } from '../util/base64url.js';

interface LastSeen<Entry> {
  /** The token's ASCII bytes, zero-padded to whole 32-bit words. */
  readonly words: Uint32Array;
  readonly length: number;
  readonly entry: Entry;
}

/** Longer tokens (far beyond any real JWT) skip the per-connection memo and use the cache. */
const MEMO_MAX_TOKEN_LENGTH = 8192;
// Twice the longest remembered token, so encoding a candidate of the same length never stops
// short of telling whether it is ASCII. Its own ArrayBuffer, so the word view is aligned.
const scratchWords = new Uint32Array(MEMO_MAX_TOKEN_LENGTH / 2);
const scratchBytes = new Uint8Array(scratchWords.buffer);
const utf8 = new TextEncoder();

/** Callers from plain JavaScript may pass anything; only objects can key a WeakMap. */
function isConnection(value: unknown): value is object {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

/** Writes `token` as UTF-8 into the scratch buffer; true when it is ASCII (one byte a character). */
function encodeAscii(token: string): boolean {
  const { written } = utf8.encodeInto(token, scratchBytes);
  if (written !== token.length) return false;
  // Zero the rest of the last word, as in every remembered token.
  for (let i = written; (i & 3) !== 0; i++) scratchBytes[i] = 0;
  return true;
}

/**
 * Whether `token` is exactly the remembered one, in time that depends only on the lengths.
 * Behind a proxy that pools connections, the remembered token may be another caller's, so an
 * early-exit comparison would tell the next caller how much of it their own token matched.
 * A word-wise XOR in JavaScript is used rather than crypto.timingSafeEqual, whose call costs
 * three times as much as the whole comparison for a JWT-sized token.
 */
function isRemembered(token: string, remembered: LastSeen<object>): boolean {
  if (token.length !== remembered.length || !encodeAscii(token)) return false;
  const { words } = remembered;
  let difference = 0;
  for (let i = 0; i < words.length; i++) difference |= (scratchWords[i] as number) ^ (words[i] as number);
  return difference === 0;
}

/** The token as remembered, or undefined when it is too long or not ASCII. */
function rememberable<Entry>(token: string, entry: Entry): LastSeen<Entry> | undefined {
  if (token.length > MEMO_MAX_TOKEN_LENGTH || !encodeAscii(token)) return undefined;
  const words = scratchWords.slice(0, Math.ceil(token.length / 4));
  return { words, length: token.length, entry };
}

/** Fewest slots of the seen-once filter: 4 KiB, so that small caches still admit repeats. */
const MIN_SEEN_ONCE_SLOTS = 1024;

/** The 32 bits of `digest` (a latin1 SHA-256 string) starting at character `at`. */
function digestWord(digest: string, at: number): number {
  return (
    (digest.charCodeAt(at) |
      (digest.charCodeAt(at + 1) << 8) |
      (digest.charCodeAt(at + 2) << 16) |
      (digest.charCodeAt(at + 3) << 24)) >>>
    0
  );
}

/**
 * A bounded cache of verified tokens keyed by the SHA-256 of the exact token string, so a
 * token seen again skips its signature verification. Callers keep the verifying bundle in
 * the entry and use it only while the trust source still returns that bundle object, and
 * re-check time on every hit.
 *
 * A token is admitted on its second verification, not its first. A token that is never sent
 * again (a caller minting one per request) would otherwise push a cached entry out on every
 * request, and each such entry outlives V8's young generation only to die in the old one:
 * measured over HTTP with Express (bench/http), that churn took the fresh-token path from
 * 1.03 to 0.81 × the fastest bearer peer and its server's RSS from 93 to 136 MB. What
 * remembers the first sighting is a fixed table of 32-bit digest fingerprints (4 bytes a slot,
 * as many slots as the next power of two of the cache size, at least 1024): it allocates
 * nothing per request, and a fingerprint that collides only admits a token one verification
 * early — every admitted token has been verified. A token reused by its caller costs one more
 * signature verification per process, once.
 *
 * In front of it, each connection's last admitted token: a keep-alive client repeats the same
 * token request after request, and a constant-time comparison answers it where hashing the
 * token and looking the digest up costs several times more under load. That memo holds one
 * token and entry per open connection, in a WeakMap keyed by the connection object, so it is
 * bounded by the open connections and released with them.
 *
 * lru-cache is used rather than a hand-written LRU: it is the most widely deployed
 * bounded cache on npm, allocation-free on hits, and maintained.
 */
export class VerifiedTokenCache<Entry extends object> {
  readonly #cache: LRUCache<string, Entry> | undefined;
  readonly #lastOnConnection = new WeakMap<object, LastSeen<Entry>>();
  /** Fingerprints of tokens verified once and not admitted yet, indexed by digest bits. */
  readonly #seenOnce: Uint32Array;

  /** @param maxEntries 0 disables caching. */
  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new TypeError('cache size must be a non-negative integer');
    }
    this.#cache = maxEntries === 0 ? undefined : new LRUCache<string, Entry>({ max: maxEntries });
    let slots = MIN_SEEN_ONCE_SLOTS;
    while (maxEntries > 0 && slots < maxEntries) slots *= 2;
    this.#seenOnce = new Uint32Array(maxEntries === 0 ? 0 : slots);
  }

  /**
   * The entry remembered for exactly `token`.
   * @param connection the transport connection the token arrived on, when known
   */
  get(token: string, connection?: object): Entry | undefined {
    if (this.#cache === undefined) return undefined;
    if (isConnection(connection)) {
      const last = this.#lastOnConnection.get(connection);
      if (last !== undefined && isRemembered(token, last)) return last.entry;
    }
    const entry = this.#cache.get(sha256Key(token));
    if (entry !== undefined && isConnection(connection)) this.#remember(connection, token, entry);
    return entry;
  }

  /**
   * Called with each freshly verified token: remembers `entry` for `token` (and as
   * `connection`'s last token, when given) if this is the token's second verification.
   * @returns whether the token is now cached
   */
  admit(token: string, entry: Entry, connection?: object): boolean {
    if (this.#cache === undefined) return false;
    const digest = sha256Key(token);
    const slot = digestWord(digest, 0) & (this.#seenOnce.length - 1);
    const fingerprint = digestWord(digest, 4);
    if (this.#seenOnce[slot] !== fingerprint) {
      this.#seenOnce[slot] = fingerprint;
      return false;
    }
    this.#cache.set(digest, entry);
    if (isConnection(connection)) this.#remember(connection, token, entry);
    return true;
  }

  #remember(connection: object, token: string, entry: Entry): void {
    const last = rememberable(token, entry);
    if (last === undefined) this.#lastOnConnection.delete(connection);
    else this.#lastOnConnection.set(connection, last);
  }

  /** Entries in the bounded cache. */
  get size(): number {
    return this.#cache?.size ?? 0;
  }
}
