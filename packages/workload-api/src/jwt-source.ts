import { type BackoffOptions, backoffDelay, backoffSettings } from './backoff.js';
import { type JwtSvid, WorkloadApiClient, type WorkloadApiClientOptions } from './client.js';
import { WorkloadApiError } from './errors.js';

/** Options of {@link WorkloadApiJwtSource}. */
export interface WorkloadApiJwtSourceOptions extends WorkloadApiClientOptions {
  /** A client to use instead of creating one; the source does not close a client it was given. */
  client?: WorkloadApiClient;
  /**
   * Fetch a new token this long before the cached one expires, in ms. Capped at half the
   * token's lifetime, so short-lived tokens are still reused. Default 60000.
   */
  refreshBeforeExpiryMs?: number;
  /** Most (audience set, SPIFFE ID) pairs cached; the least recently used goes first. Default 100. */
  maxCacheEntries?: number;
  /**
   * Attempts per fetch on retryable failures (`PERMISSION_DENIED` while the agent attests
   * the workload, `UNAVAILABLE` while it starts), with capped exponential backoff. Default 3.
   */
  maxAttempts?: number;
  /** Pacing of those attempts. Default: 250 ms doubling up to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /** Time source, for tests. Default `Date.now`. */
  now?: () => number;
}

/** Parameters of {@link WorkloadApiJwtSource.fetchJwtSvid}. */
export interface JwtSvidParameters {
  audience: string | readonly string[];
  spiffeId?: string;
}

interface CacheEntry {
  svid: JwtSvid | undefined;
  refreshAt: number;
  pending: Promise<JwtSvid> | undefined;
}

const DEFAULT_REFRESH_BEFORE_EXPIRY_MS = 60_000;
const DEFAULT_MAX_CACHE_ENTRIES = 100;
const DEFAULT_MAX_ATTEMPTS = 3;

function cacheKey(parameters: JwtSvidParameters): string {
  const audience = typeof parameters.audience === 'string' ? [parameters.audience] : [...parameters.audience];
  // The same audiences in another order are the same request.
  return JSON.stringify([[...new Set(audience)].sort(), parameters.spiffeId ?? null]);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * JWT-SVIDs for the calling side, from the Workload API. Tokens are cached per (audience
 * set, SPIFFE ID) until shortly before they expire; concurrent requests for the same
 * token share one fetch. When a refresh fails while the cached token is still valid, the
 * cached token is served.
 *
 * ```ts
 * const svids = new WorkloadApiJwtSource();
 * const call = jwtSvidFetch({ token: svids.tokenProvider({ audience: 'spiffe://example.org/orders' }) });
 * ```
 */
export class WorkloadApiJwtSource implements AsyncDisposable {
  readonly #client: WorkloadApiClient;
  readonly #ownsClient: boolean;
  readonly #refreshBeforeExpiryMs: number;
  readonly #maxCacheEntries: number;
  readonly #maxAttempts: number;
  readonly #backoff: Required<BackoffOptions>;
  readonly #now: () => number;
  // Insertion order doubles as recency order: a hit is moved to the end.
  readonly #cache = new Map<string, CacheEntry>();

  /**
   * @throws InvalidEndpointAddressError when no usable endpoint is configured.
   * @throws RangeError on invalid numeric options.
   */
  constructor(options: WorkloadApiJwtSourceOptions = {}) {
    this.#refreshBeforeExpiryMs = options.refreshBeforeExpiryMs ?? DEFAULT_REFRESH_BEFORE_EXPIRY_MS;
    if (!Number.isFinite(this.#refreshBeforeExpiryMs) || this.#refreshBeforeExpiryMs < 0) {
      throw new RangeError('refreshBeforeExpiryMs must be non-negative');
    }
    this.#maxCacheEntries = options.maxCacheEntries ?? DEFAULT_MAX_CACHE_ENTRIES;
    if (!Number.isSafeInteger(this.#maxCacheEntries) || this.#maxCacheEntries < 1) {
      throw new RangeError('maxCacheEntries must be a positive integer');
    }
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isSafeInteger(this.#maxAttempts) || this.#maxAttempts < 1) {
      throw new RangeError('maxAttempts must be a positive integer');
    }
    this.#backoff = backoffSettings(options.backoff);
    this.#now = options.now ?? Date.now;
    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? new WorkloadApiClient(options);
  }

  /**
   * A JWT-SVID for `audience` (and `spiffeId`, when the workload has several identities),
   * from the cache while it is fresh.
   * @throws WorkloadApiError when the agent gives none (after the retries).
   */
  async fetchJwtSvid(parameters: JwtSvidParameters): Promise<JwtSvid> {
    const key = cacheKey(parameters);
    let entry = this.#cache.get(key);
    if (entry !== undefined) {
      this.#cache.delete(key);
      this.#cache.set(key, entry);
    } else {
      entry = { svid: undefined, refreshAt: 0, pending: undefined };
      this.#cache.set(key, entry);
    }
    const now = this.#now();
    if (entry.svid !== undefined && now < entry.refreshAt) return entry.svid;
    let pending = entry.pending;
    if (pending === undefined) {
      const current = entry;
      pending = this.#fetch(parameters).then(
        (svid) => {
          current.svid = svid;
          current.refreshAt = this.#refreshTime(svid, this.#now());
          current.pending = undefined;
          // Evicting only once a token is stored: a failing request never pushes out good ones.
          this.#evict();
          return svid;
        },
        (error: unknown) => {
          current.pending = undefined;
          // A request that never succeeded (a bad audience, an unknown identity) keeps no slot.
          if (current.svid === undefined && this.#cache.get(key) === current) this.#cache.delete(key);
          throw error;
        },
      );
      current.pending = pending;
    }
    try {
      return await pending;
    } catch (error) {
      // A failed refresh is not fatal while the token we have is still valid.
      if (entry.svid !== undefined && this.#now() < entry.svid.expiresAt) return entry.svid;
      throw error;
    }
  }

  /**
   * A token provider for `@wimse-auth/client` (`jwtSvidFetch`, `jwtSvidInterceptor`):
   * each call returns the current token for these parameters.
   */
  tokenProvider(parameters: JwtSvidParameters): () => Promise<string> {
    return async () => (await this.fetchJwtSvid(parameters)).token;
  }

  /** Forgets cached tokens and closes the client (when this source created it). */
  async close(): Promise<void> {
    this.#cache.clear();
    if (this.#ownsClient) await this.#client.close();
  }

  /** Same as {@link WorkloadApiJwtSource.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #refreshTime(svid: JwtSvid, fetchedAt: number): number {
    const lifetime = svid.expiresAt - fetchedAt;
    return svid.expiresAt - Math.min(this.#refreshBeforeExpiryMs, Math.max(0, lifetime / 2));
  }

  #evict(): void {
    for (const [key, entry] of this.#cache) {
      if (this.#cache.size <= this.#maxCacheEntries) return;
      // An entry being fetched stays: its callers hold it, and dropping it would refetch.
      if (entry.pending === undefined) this.#cache.delete(key);
    }
  }

  async #fetch(parameters: JwtSvidParameters): Promise<JwtSvid> {
    for (let attempt = 0; ; attempt++) {
      try {
        const svid = await this.#client.fetchJwtSvid(parameters);
        if (svid.expiresAt <= this.#now()) {
          throw new WorkloadApiError('invalid_response', 'FetchJWTSVID returned an expired JWT-SVID');
        }
        return svid;
      } catch (error) {
        const retryable =
          error instanceof WorkloadApiError && error.retryable && error.code !== 'invalid_response';
        if (!retryable || attempt + 1 >= this.#maxAttempts || this.#client.closed) throw error;
        await delay(backoffDelay(attempt, this.#backoff));
      }
    }
  }
}
