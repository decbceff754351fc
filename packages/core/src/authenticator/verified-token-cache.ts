import { LRUCache } from 'lru-cache';

/**
 * A bounded cache of verified tokens keyed by the hash of the exact token string, so a
 * token seen again skips its signature verification. Callers keep the verifying bundle in
 * the entry and use it only while the trust source still returns that bundle object, and
 * re-check time on every hit.
 *
 * lru-cache is used rather than a hand-written LRU: it is the most widely deployed
 * bounded cache on npm, allocation-free on hits, and maintained.
 */
export class VerifiedTokenCache<Entry extends object> {
  readonly #cache: LRUCache<string, Entry> | undefined;

  /** @param maxEntries 0 disables caching. */
  constructor(maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 0) {
      throw new TypeError('cache size must be a non-negative integer');
    }
    this.#cache = maxEntries === 0 ? undefined : new LRUCache<string, Entry>({ max: maxEntries });
  }

  get(tokenHash: string): Entry | undefined {
    return this.#cache?.get(tokenHash);
  }

  set(tokenHash: string, entry: Entry): void {
    this.#cache?.set(tokenHash, entry);
  }

  delete(tokenHash: string): void {
    this.#cache?.delete(tokenHash);
  }

  get size(): number {
    return this.#cache?.size ?? 0;
  }
}
