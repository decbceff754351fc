import { TrustUnavailableError } from '../errors/errors.js';
import { TrustDomain } from '../identifiers/spiffe-id.js';
import { EventEmitter, type WimseEventListener } from '../observability/events.js';
import type { BundleSource } from './bundle-source.js';
import { InvalidBundleError, type JwtBundle } from './jwt-bundle.js';
import { type RemoteFetchOptions, RemoteTrustError, type RemoteTrustFailureReason } from './remote-fetch.js';

/** Refresh, staleness and observability options shared by the remote bundle sources. */
export interface RemoteBundleSourceOptions extends RemoteFetchOptions {
  /** The one trust domain this source speaks for; never inferred from the URL or the document. */
  trustDomain: TrustDomain | string;
  /**
   * Accept `http:` URLs. For tests and local development only: trust material fetched
   * without TLS can be replaced by anyone on the path. Default false.
   */
  allowInsecureHttp?: boolean;
  /** Refresh interval when the document gives no hint (`spiffe_refresh_hint`, `max-age`). Default 300000 (5 min). */
  defaultRefreshIntervalMs?: number;
  /** Lower bound of the refresh interval, whatever the document asks for. Default 30000. */
  minRefreshIntervalMs?: number;
  /** Upper bound of the refresh interval. Default 3600000 (1 h). */
  maxRefreshIntervalMs?: number;
  /**
   * How long the last good bundle keeps being served while refreshes fail, counted from
   * the last successful fetch (a `304 Not Modified` counts). Past it, `getBundle` fails
   * closed with `trust_unavailable`. `Infinity` serves the last good bundle for as long as
   * refreshes fail. Default 86400000 (24 h).
   */
  maxStalenessMs?: number;
  /**
   * At most one early re-fetch per this many ms for tokens naming an unknown `kid`, however
   * many such tokens arrive. Default 30000.
   */
  unknownKeyRefreshCooldownMs?: number;
  /** Largest number of entries in the document's `keys` array. Default 1000. */
  maxKeys?: number;
  /** Milliseconds since the epoch; drives staleness and the cooldown. Default `Date.now`. */
  now?: () => number;
  /**
   * Receives `bundle.updated`, `bundle.refresh_failed` (every failed fetch) and
   * `bundle.stale` (a failed fetch while the last good bundle is still served), also
   * published on `diagnostics_channel` as `wimse-auth:<name>`. No key or token material.
   */
  onEvent?: WimseEventListener;
}

/** What a loader fetched: a new document, or the server's word that the last one is current. */
export type LoadResult =
  | { readonly notModified: true; readonly maxAgeSeconds: number | undefined }
  | {
      readonly notModified: false;
      readonly bundle: JwtBundle;
      readonly etag: string | undefined;
      readonly maxAgeSeconds: number | undefined;
    };

/**
 * Fetches one trust domain's bundle; `etag` is the validator of the last good document,
 * `signal` aborts when the source is closed.
 */
export type BundleLoader = (etag: string | undefined, signal: AbortSignal) => Promise<LoadResult>;

/** A snapshot of a remote source's health, for readiness probes and dashboards. */
export interface RemoteBundleSourceStatus {
  /** A bundle has been fetched at least once. */
  readonly loaded: boolean;
  /** When the bundle was last fetched or confirmed unchanged (ms since the epoch). */
  readonly lastSuccessAt: number | undefined;
  /** Reason of the most recent failure, cleared by the next success. */
  readonly lastFailure: RemoteTrustFailureReason | undefined;
  /** Consecutive failed fetches. */
  readonly consecutiveFailures: number;
  /** `getBundle` would fail with `trust_unavailable` right now (never loaded, or too stale). */
  readonly unavailable: boolean;
}

const DEFAULT_REFRESH_INTERVAL_MS = 5 * 60_000;
const DEFAULT_MIN_REFRESH_INTERVAL_MS = 30_000;
const DEFAULT_MAX_REFRESH_INTERVAL_MS = 60 * 60_000;
const DEFAULT_MAX_STALENESS_MS = 24 * 60 * 60_000;
const DEFAULT_UNKNOWN_KEY_COOLDOWN_MS = 30_000;
export const DEFAULT_MAX_KEYS = 1000;
// Longer delays make Node's timers fire after 1 ms instead.
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

function duration(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < (allowZero ? 0 : 1) || value > MAX_TIMER_DELAY_MS) {
    throw new RangeError(`${name} must be an integer between ${allowZero ? 0 : 1} and ${MAX_TIMER_DELAY_MS}`);
  }
  return value;
}

/** What makes two bundles interchangeable, so an unchanged document keeps the old object. */
function fingerprintOf(bundle: JwtBundle): string {
  return JSON.stringify([
    bundle.sequence?.toString() ?? null,
    bundle.refreshHintSeconds ?? null,
    bundle.toJwks(),
  ]);
}

function failureReason(error: unknown): RemoteTrustFailureReason {
  if (error instanceof RemoteTrustError) return error.reason;
  if (error instanceof InvalidBundleError) {
    return error.reason === 'too_many_keys' ? 'too_many_keys' : 'invalid_document';
  }
  return 'network_error';
}

/**
 * A trust domain's bundle kept fresh from a remote endpoint: the shared machinery behind
 * {@link FederatedBundleSource} and {@link OidcDiscoveryBundleSource}.
 *
 * Fetches at construction, then at the document's refresh hint bounded by the min/max
 * options; after a failure it retries with exponential backoff (never faster than the
 * minimum interval, never slower than the regular one). The last good bundle is served
 * while refreshes fail, up to `maxStalenessMs`; a source that never loaded, or whose bundle
 * is too stale, fails closed with `TrustUnavailableError` (503 `trust_unavailable`). An
 * unchanged document (or a `304`) keeps the same {@link JwtBundle} object, so verified-token
 * caches stay warm. Timers never keep the process alive; {@link RemoteBundleSource.close}
 * stops them.
 */
export class RemoteBundleSource implements BundleSource, AsyncDisposable {
  /** The trust domain this source answers for; every other trust domain gets `undefined`. */
  readonly trustDomain: TrustDomain;
  /** Settles after the first fetch attempt, successful or not; never rejects. */
  readonly ready: Promise<void>;
  readonly #load: BundleLoader;
  readonly #events: EventEmitter;
  readonly #eventTarget: string;
  readonly #now: () => number;
  readonly #defaultIntervalMs: number;
  readonly #minIntervalMs: number;
  readonly #maxIntervalMs: number;
  readonly #maxStalenessMs: number;
  readonly #cooldownMs: number;
  #bundle: JwtBundle | undefined;
  #fingerprint: string | undefined;
  #etag: string | undefined;
  #intervalMs: number;
  #lastSuccessAt: number | undefined;
  #lastError: Error | undefined;
  #consecutiveFailures = 0;
  #lastUnknownKeyRefreshAt: number | undefined;
  #inFlight: Promise<void> | undefined;
  // Aborted by close(), so a hanging request does not hold close() for a whole timeout.
  readonly #closing = new AbortController();
  #timer: NodeJS.Timeout | undefined;
  #attempted = false;
  #closed = false;

  /**
   * @param eventTarget Where the bundle comes from, for events (`server.address`): a host, never a full URL.
   * @throws RangeError on out-of-range durations; InvalidSpiffeIdError on an invalid trust domain.
   */
  protected constructor(options: RemoteBundleSourceOptions, eventTarget: string, load: BundleLoader) {
    this.trustDomain =
      typeof options.trustDomain === 'string' ? TrustDomain.parse(options.trustDomain) : options.trustDomain;
    this.#minIntervalMs = duration(
      options.minRefreshIntervalMs,
      DEFAULT_MIN_REFRESH_INTERVAL_MS,
      'minRefreshIntervalMs',
    );
    this.#maxIntervalMs = duration(
      options.maxRefreshIntervalMs,
      DEFAULT_MAX_REFRESH_INTERVAL_MS,
      'maxRefreshIntervalMs',
    );
    if (this.#maxIntervalMs < this.#minIntervalMs) {
      throw new RangeError('maxRefreshIntervalMs must not be below minRefreshIntervalMs');
    }
    this.#defaultIntervalMs = duration(
      options.defaultRefreshIntervalMs,
      DEFAULT_REFRESH_INTERVAL_MS,
      'defaultRefreshIntervalMs',
    );
    this.#maxStalenessMs = options.maxStalenessMs ?? DEFAULT_MAX_STALENESS_MS;
    // Not a timer delay: Infinity (never fail closed on age) is allowed.
    if (Number.isNaN(this.#maxStalenessMs) || this.#maxStalenessMs < 0) {
      throw new RangeError('maxStalenessMs must be a non-negative number (Infinity for no bound)');
    }
    this.#cooldownMs = duration(
      options.unknownKeyRefreshCooldownMs,
      DEFAULT_UNKNOWN_KEY_COOLDOWN_MS,
      'unknownKeyRefreshCooldownMs',
      true,
    );
    this.#intervalMs = this.#bounded(this.#defaultIntervalMs);
    this.#now = options.now ?? Date.now;
    this.#events = new EventEmitter(options.onEvent);
    this.#eventTarget = eventTarget;
    this.#load = load;
    this.ready = this.refresh();
  }

  /**
   * The bundle, when `trustDomain` is this source's; `undefined` for any other trust domain.
   * Calls made before the first fetch finished wait for it (at most one request timeout).
   * @throws TrustUnavailableError (`trust_unavailable`) when no bundle was ever fetched, or
   * the last good one is older than `maxStalenessMs`.
   */
  getBundle(trustDomain: TrustDomain): Promise<JwtBundle | undefined> | JwtBundle | undefined {
    if (trustDomain.name !== this.trustDomain.name) return undefined;
    if (!this.#attempted) return this.ready.then(() => this.#current());
    return this.#current();
  }

  /**
   * Re-fetches early for a token naming a `kid` the bundle lacks, at most once per
   * `unknownKeyRefreshCooldownMs`; concurrent callers share one request. Resolves to the
   * bundle to retry with (the same one when no re-fetch was due).
   * @throws TrustUnavailableError like {@link RemoteBundleSource.getBundle}
   */
  async refreshOnUnknownKey(trustDomain: TrustDomain, _kid: string): Promise<JwtBundle | undefined> {
    if (trustDomain.name !== this.trustDomain.name) return undefined;
    if (this.#inFlight !== undefined) {
      await this.#inFlight;
    } else {
      const now = this.#now();
      const due =
        this.#lastUnknownKeyRefreshAt === undefined ||
        now - this.#lastUnknownKeyRefreshAt >= this.#cooldownMs;
      if (due && !this.#closed) {
        this.#lastUnknownKeyRefreshAt = now;
        await this.refresh();
      }
    }
    return this.getBundle(trustDomain);
  }

  /**
   * Fetches now (or joins the fetch in progress) and reschedules the next refresh. Never
   * rejects: failures are reported through events and {@link RemoteBundleSource.status}.
   */
  refresh(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#inFlight !== undefined) return this.#inFlight;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#inFlight = this.#refreshOnce().finally(() => {
      this.#inFlight = undefined;
      this.#attempted = true;
      this.#schedule();
    });
    return this.#inFlight;
  }

  /** Current health, for readiness probes. */
  get status(): RemoteBundleSourceStatus {
    return {
      loaded: this.#bundle !== undefined,
      lastSuccessAt: this.#lastSuccessAt,
      lastFailure: this.#lastError === undefined ? undefined : failureReason(this.#lastError),
      consecutiveFailures: this.#consecutiveFailures,
      unavailable: this.#unavailableReason() !== undefined,
    };
  }

  /** Stops refreshing, cancels a fetch in progress and waits for it to settle. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#closing.abort();
    await this.#inFlight;
  }

  /** Same as {@link RemoteBundleSource.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #unavailableReason(): string | undefined {
    if (this.#bundle === undefined || this.#lastSuccessAt === undefined) return 'has not been fetched';
    if (this.#now() - this.#lastSuccessAt > this.#maxStalenessMs) return 'is stale beyond its bound';
    return undefined;
  }

  #current(): JwtBundle {
    const reason = this.#unavailableReason();
    if (reason !== undefined) {
      throw new TrustUnavailableError(`trust bundle of trust domain "${this.trustDomain.name}" ${reason}`, {
        cause: this.#lastError,
      });
    }
    return this.#bundle as JwtBundle;
  }

  #bounded(intervalMs: number): number {
    return Math.min(this.#maxIntervalMs, Math.max(this.#minIntervalMs, intervalMs));
  }

  /** The interval the document asks for: the shorter of its refresh hint and HTTP `max-age`. */
  #requestedIntervalMs(bundle: JwtBundle | undefined, maxAgeSeconds: number | undefined): number {
    const hints: number[] = [];
    if (bundle?.refreshHintSeconds !== undefined) hints.push(bundle.refreshHintSeconds * 1000);
    if (maxAgeSeconds !== undefined) hints.push(maxAgeSeconds * 1000);
    return this.#bounded(hints.length === 0 ? this.#defaultIntervalMs : Math.min(...hints));
  }

  async #refreshOnce(): Promise<void> {
    let result: LoadResult;
    try {
      result = await this.#load(this.#bundle === undefined ? undefined : this.#etag, this.#closing.signal);
      if (!result.notModified) this.#checkSequence(result.bundle);
    } catch (error) {
      this.#recordFailure(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.#closed) return;
    this.#consecutiveFailures = 0;
    this.#lastError = undefined;
    this.#lastSuccessAt = this.#now();
    if (result.notModified) {
      this.#intervalMs = this.#requestedIntervalMs(this.#bundle, result.maxAgeSeconds);
      return;
    }
    this.#etag = result.etag;
    this.#intervalMs = this.#requestedIntervalMs(result.bundle, result.maxAgeSeconds);
    const fingerprint = fingerprintOf(result.bundle);
    if (this.#bundle !== undefined && fingerprint === this.#fingerprint) return;
    this.#bundle = result.bundle;
    this.#fingerprint = fingerprint;
    this.#events.emit('bundle.updated', () => ({
      'wimse.trust_domain': this.trustDomain.name,
      'server.address': this.#eventTarget,
      'wimse.bundle.keys': result.bundle.keys.length,
    }));
  }

  /** `spiffe_sequence` orders bundle versions: an older one must not replace a newer one. */
  #checkSequence(bundle: JwtBundle): void {
    const current = this.#bundle?.sequence;
    if (current !== undefined && bundle.sequence !== undefined && bundle.sequence < current) {
      throw new RemoteTrustError('sequence_regressed', 'bundle "spiffe_sequence" went backwards');
    }
  }

  #recordFailure(error: Error): void {
    this.#consecutiveFailures += 1;
    this.#lastError = error;
    if (this.#closed) return;
    const reason = failureReason(error);
    this.#events.emit('bundle.refresh_failed', () => ({
      'wimse.trust_domain': this.trustDomain.name,
      'server.address': this.#eventTarget,
      'error.type': reason,
    }));
    if (this.#unavailableReason() === undefined) {
      const lastSuccessAt = this.#lastSuccessAt as number;
      this.#events.emit('bundle.stale', () => ({
        'wimse.trust_domain': this.trustDomain.name,
        'server.address': this.#eventTarget,
        'error.type': reason,
        'wimse.bundle.age_ms': this.#now() - lastSuccessAt,
      }));
    }
  }

  #schedule(): void {
    if (this.#closed) return;
    let delay = this.#intervalMs;
    if (this.#consecutiveFailures > 0) {
      // Exponential backoff from the minimum interval, capped at the regular interval
      // (the federation spec: retry at the next interval, not aggressively), with jitter
      // so a fleet does not retry in lockstep.
      const backoff = this.#minIntervalMs * 2 ** Math.min(this.#consecutiveFailures - 1, 20);
      delay = Math.min(this.#intervalMs, backoff);
      delay = Math.max(this.#minIntervalMs, Math.round(delay * (0.9 + Math.random() * 0.1)));
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.refresh();
    }, delay);
    this.#timer.unref();
  }
}
