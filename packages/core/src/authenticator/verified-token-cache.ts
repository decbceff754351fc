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

/**
 * A bounded cache of verified tokens keyed by the SHA-256 of the exact token string, so a
 * token seen again skips its signature verification. Callers keep the verifying bundle in
 * the entry and use it only while the trust source still returns that bundle object, and
 * re-check time on every hit.
 *
 * In front of it, each connection's last token: a keep-alive client repeats the same token
 * request after request, and a constant-time comparison answers it where hashing the
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

  /** @param maxEntries 0 disables caching. */
  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new TypeError('cache size must be a non-negative integer');
    }
    this.#cache = maxEntries === 0 ? undefined : new LRUCache<string, Entry>({ max: maxEntries });
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

  /** Remembers `entry` for `token` (and as `connection`'s last token, when given). */
  set(token: string, entry: Entry, connection?: object): void {
    if (this.#cache === undefined) return;
    this.#cache.set(sha256Key(token), entry);
    if (isConnection(connection)) this.#remember(connection, token, entry);
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
