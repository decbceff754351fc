import { TrustUnavailableError } from '../errors/errors.js';
import type { ReplayStore } from './replay-store.js';

/** Options of {@link MemoryReplayStore}. */
export interface MemoryReplayStoreOptions {
  /**
   * Most proofs remembered at once. When full of unexpired entries the store refuses new
   * proofs (503) rather than forget one that could then be replayed. Default 250 000:
   * about 32 MB, at the ~130 bytes per entry (43-character key included) that
   * `bench/replay-store-memory.mjs` measures on Node 20.
   */
  maxEntries?: number;
  /** Current time; the authenticator passes its own clock. Default `Date.now`. */
  now?: () => number;
}

/** Width of one expiry bucket, in milliseconds. */
const BUCKET_MS = 1000;
/** Past this many empty bucket steps a sweep walks the bucket map instead. */
const MAX_SWEEP_STEPS = 4096;

/**
 * A bounded in-memory {@link ReplayStore} for a single process. Expired entries are
 * dropped in whole one-second buckets as time passes, so there is no timer and no
 * per-entry scan. Use a shared store (for example Redis) when several replicas serve the
 * same audience.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #expiries = new Map<string, number>();
  readonly #buckets = new Map<number, string[]>();
  #nextBucketToSweep: number | undefined;

  constructor(options: MemoryReplayStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 250_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0) {
      throw new TypeError('maxEntries must be a positive integer');
    }
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
  }

  /** Entries currently remembered (expired ones may linger until the next sweep). */
  get size(): number {
    return this.#expiries.size;
  }

  async checkAndRemember(key: string, expiresAt: number): Promise<boolean> {
    const now = this.#now();
    this.#sweep(now);
    const known = this.#expiries.get(key);
    if (known !== undefined && known > now) return false;
    if (expiresAt <= now) return true;
    if (known === undefined && this.#expiries.size >= this.#maxEntries) {
      throw new TrustUnavailableError('replay cache is full');
    }
    this.#expiries.set(key, expiresAt);
    const bucket = Math.floor(expiresAt / BUCKET_MS);
    const keys = this.#buckets.get(bucket);
    if (keys === undefined) this.#buckets.set(bucket, [key]);
    else keys.push(key);
    if (this.#nextBucketToSweep === undefined || bucket < this.#nextBucketToSweep)
      this.#nextBucketToSweep = bucket;
    return true;
  }

  /** Drops every bucket whose whole range has passed. */
  #sweep(now: number): void {
    const current = Math.floor(now / BUCKET_MS);
    if (this.#nextBucketToSweep === undefined || this.#nextBucketToSweep >= current) return;
    if (current - this.#nextBucketToSweep > MAX_SWEEP_STEPS) {
      for (const bucket of [...this.#buckets.keys()]) if (bucket < current) this.#dropBucket(bucket, now);
    } else {
      for (let bucket = this.#nextBucketToSweep; bucket < current; bucket++) this.#dropBucket(bucket, now);
    }
    this.#nextBucketToSweep = current;
  }

  #dropBucket(bucket: number, now: number): void {
    const keys = this.#buckets.get(bucket);
    if (keys === undefined) return;
    this.#buckets.delete(bucket);
    for (const key of keys) {
      const expiry = this.#expiries.get(key);
      // A key re-remembered later lives in a later bucket; only drop it once truly expired.
      if (expiry !== undefined && expiry <= now) this.#expiries.delete(key);
    }
  }
}
