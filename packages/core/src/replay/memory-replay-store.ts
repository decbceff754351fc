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
  /**
   * A monotonic time source in milliseconds (one that a wall-clock step cannot move), used
   * to keep entries the wall clock calls expired before they really are: after the clock is
   * stepped forward and back, a dropped proof would otherwise be accepted again. Default
   * `performance.now` when `now` is not given; when `now` is given, that same function (a
   * simulated clock drives both, and the guard has nothing to compare against).
   */
  monotonicNow?: () => number;
}

/** The keys whose proofs expire within one second, and when, in monotonic time, they all have. */
interface Bucket {
  readonly index: number;
  readonly keys: string[];
  monotonicDeadline: number;
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
  readonly #monotonicNow: () => number;
  readonly #expiries = new Map<string, number>();
  readonly #buckets = new Map<number, Bucket>();
  /** Buckets the wall clock expired before real time did (it was stepped forward). */
  #held: Bucket[] = [];
  #nextBucketToSweep: number | undefined;

  constructor(options: MemoryReplayStoreOptions = {}) {
    const maxEntries = options.maxEntries ?? 250_000;
    if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0) {
      throw new TypeError('maxEntries must be a positive integer');
    }
    this.#maxEntries = maxEntries;
    this.#now = options.now ?? Date.now;
    this.#monotonicNow =
      options.monotonicNow ?? (options.now === undefined ? () => performance.now() : this.#now);
  }

  /** Entries currently remembered (expired ones may linger until the next sweep). */
  get size(): number {
    return this.#expiries.size;
  }

  async checkAndRemember(key: string, expiresAt: number): Promise<boolean> {
    const now = this.#now();
    if (this.#held.length > 0) this.#releaseHeld();
    this.#sweep(now);
    const known = this.#expiries.get(key);
    if (known !== undefined && known > now) return false;
    if (expiresAt <= now) return true;
    if (known === undefined && this.#expiries.size >= this.#maxEntries) {
      throw new TrustUnavailableError('replay cache is full');
    }
    this.#expiries.set(key, expiresAt);
    this.#file(Math.floor(expiresAt / BUCKET_MS), [key], this.#monotonicNow() + (expiresAt - now));
    return true;
  }

  #file(index: number, keys: string[], monotonicDeadline: number): void {
    const bucket = this.#buckets.get(index);
    if (bucket === undefined) {
      this.#buckets.set(index, { index, keys, monotonicDeadline });
    } else {
      for (const key of keys) bucket.keys.push(key);
      bucket.monotonicDeadline = Math.max(bucket.monotonicDeadline, monotonicDeadline);
    }
    if (this.#nextBucketToSweep === undefined || index < this.#nextBucketToSweep)
      this.#nextBucketToSweep = index;
  }

  /** Files held buckets whose real time has passed back under their wall-clock second. */
  #releaseHeld(): void {
    const monotonicNow = this.#monotonicNow();
    const stillHeld: Bucket[] = [];
    for (const bucket of this.#held) {
      if (bucket.monotonicDeadline > monotonicNow) stillHeld.push(bucket);
      else this.#file(bucket.index, bucket.keys, bucket.monotonicDeadline);
    }
    this.#held = stillHeld;
  }

  /** Drops every bucket whose whole range has passed, by both the wall clock and real time. */
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

  #dropBucket(index: number, now: number): void {
    const bucket = this.#buckets.get(index);
    if (bucket === undefined) return;
    this.#buckets.delete(index);
    if (bucket.monotonicDeadline > this.#monotonicNow()) {
      // The wall clock says expired, real elapsed time says not: the clock was stepped
      // forward. Keep the keys, since a step back would make their proofs valid again, until
      // the real time has passed too (#releaseHeld).
      this.#held.push(bucket);
      return;
    }
    for (const key of bucket.keys) {
      const expiry = this.#expiries.get(key);
      // A key re-remembered later lives in a later bucket; only drop it once truly expired.
      if (expiry !== undefined && expiry <= now) this.#expiries.delete(key);
    }
  }
}
