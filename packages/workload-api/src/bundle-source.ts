import {
  type BundleSource,
  JwtBundle,
  TrustDomain,
  TrustUnavailableError,
  WimseEventEmitter,
  type WimseEventListener,
} from '@wimse-auth/core';
import { type BackoffOptions, backoffDelay, backoffSettings } from './backoff.js';
import { type StreamHandle, WorkloadApiClient, type WorkloadApiClientOptions } from './client.js';
import { WorkloadApiError } from './errors.js';

/** Options of {@link WorkloadApiBundleSource}. */
export interface WorkloadApiBundleSourceOptions extends WorkloadApiClientOptions {
  /**
   * A client to use instead of creating one from `endpoint`/`env`. The source does not close
   * a client it was given.
   */
  client?: WorkloadApiClient;
  /** Reconnection pacing after errors. Default: 250 ms doubling up to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /**
   * How long the last bundles received stay trusted while the stream is down, in ms. Past
   * it, `getBundle` fails closed with `TrustUnavailableError` (503) until the stream is
   * back. Default: no bound (the agent keeps its own last bundles when its server is away,
   * and so does this source).
   */
  maxStalenessMs?: number;
  /**
   * Receives `bundle.updated` (a trust domain's bundle was added, replaced or removed),
   * `bundle.refresh_failed` (the stream failed, or a bundle in a message was unusable) and
   * `bundle.stale` (such a failure while the last good bundles are still served) events, also
   * published on `diagnostics_channel` as `wimse-auth:bundle.*`. Never key material.
   */
  onEvent?: WimseEventListener;
  /** Time source, for tests. Default `Date.now`. */
  now?: () => number;
}

interface Entry {
  /** The JWKS bytes the current bundle was built from. */
  readonly raw: Buffer;
  readonly bundle: JwtBundle;
}

function toTrustDomain(key: string): TrustDomain | undefined {
  const trustDomain = TrustDomain.tryParse(key);
  // Keys are trust domain IDs (`spiffe://example.org`); a bare name is accepted, a path is not.
  if (trustDomain === undefined || (key !== trustDomain.id && key !== trustDomain.name)) return undefined;
  return trustDomain;
}

function errorType(error: unknown): string {
  if (error instanceof WorkloadApiError) return error.code;
  const reason = (error as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' ? reason : error instanceof Error ? error.name : 'unknown';
}

/**
 * Trust bundles from the SPIFFE Workload API: keeps a `FetchJWTBundles` stream open and
 * serves what the agent last sent. Each message replaces the whole set: a trust domain
 * missing from it is no longer trusted. A bundle whose bytes did not change keeps its
 * `JwtBundle` object, so verified-token caches survive. The stream is re-opened at once
 * after a clean end and with capped exponential backoff plus jitter after an error;
 * `INVALID_ARGUMENT` and `UNIMPLEMENTED` are not retried (the specification says they never
 * heal) and the source then fails closed.
 *
 * Until the first message, `getBundle` throws `TrustUnavailableError` (503), never
 * "untrusted": await {@link WorkloadApiBundleSource.ready} (or
 * {@link WorkloadApiBundleSource.waitForReady}) before serving.
 */
export class WorkloadApiBundleSource implements BundleSource, AsyncDisposable {
  /**
   * Resolves on the first bundles message; rejects when the stream fails for good
   * (`INVALID_ARGUMENT`, `UNIMPLEMENTED`) or the source is closed first. Never an unhandled
   * rejection if nobody awaits it.
   */
  readonly ready: Promise<void>;
  readonly #client: WorkloadApiClient;
  readonly #ownsClient: boolean;
  readonly #backoff: Required<BackoffOptions>;
  readonly #maxStalenessMs: number;
  readonly #now: () => number;
  readonly #events: WimseEventEmitter;
  readonly #sourceAttributes: Readonly<Record<string, string>>;
  readonly #entries = new Map<string, Entry>();
  /** Trust domains listed in the last message whose bundle could not be used (and had none before). */
  readonly #unusable = new Map<string, Error>();
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #received = false;
  #failure: WorkloadApiError | undefined;
  #downSince: number | undefined;
  #lastError: WorkloadApiError | undefined;
  #attempt = 0;
  #stream: StreamHandle | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;

  /**
   * Opens the stream right away.
   * @throws InvalidEndpointAddressError when no usable endpoint is configured.
   * @throws RangeError on invalid backoff or staleness options.
   */
  constructor(options: WorkloadApiBundleSourceOptions = {}) {
    const maxStalenessMs = options.maxStalenessMs ?? Number.POSITIVE_INFINITY;
    if (Number.isNaN(maxStalenessMs) || maxStalenessMs <= 0) {
      throw new RangeError('maxStalenessMs must be positive');
    }
    this.#maxStalenessMs = maxStalenessMs;
    this.#backoff = backoffSettings(options.backoff);
    this.#now = options.now ?? Date.now;
    this.#events = new WimseEventEmitter(options.onEvent);
    this.#ownsClient = options.client === undefined;
    this.#client = options.client ?? new WorkloadApiClient(options);
    const { endpoint } = this.#client;
    this.#sourceAttributes = {
      'wimse.bundle_source': 'workload-api',
      'server.address': endpoint.transport === 'unix' ? endpoint.path : endpoint.host,
    };
    this.ready = new Promise<void>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.#open();
  }

  /**
   * The bundle the agent last sent for `trustDomain`, or `undefined` when the agent does not
   * list it.
   * @throws TrustUnavailableError before the first message, after a permanent failure or
   * `close()`, when the stream has been down longer than `maxStalenessMs`, or when the
   * agent's bundle for this trust domain could not be read.
   */
  getBundle(trustDomain: TrustDomain): JwtBundle | undefined {
    if (this.#closed) throw new TrustUnavailableError('the Workload API bundle source is closed');
    if (this.#failure !== undefined) {
      throw new TrustUnavailableError('the Workload API refused to stream trust bundles', {
        cause: this.#failure,
      });
    }
    if (!this.#received) {
      throw new TrustUnavailableError('no trust bundles received from the Workload API yet', {
        cause: this.#lastError,
      });
    }
    if (this.#staleBeyondBound()) {
      throw new TrustUnavailableError('the Workload API trust bundles are stale', { cause: this.#lastError });
    }
    const unusable = this.#unusable.get(trustDomain.name);
    if (unusable !== undefined) {
      throw new TrustUnavailableError(
        `the Workload API bundle for trust domain "${trustDomain.name}" is unusable`,
        {
          cause: unusable,
        },
      );
    }
    return this.#entries.get(trustDomain.name)?.bundle;
  }

  /** The trust domains the agent currently lists (empty before the first message). */
  get trustDomains(): string[] {
    return [...this.#entries.keys(), ...this.#unusable.keys()].sort();
  }

  /**
   * Like {@link WorkloadApiBundleSource.ready}, but gives up after `timeoutMs`.
   * @throws TrustUnavailableError when no bundles arrived in time (the cause says why).
   */
  async waitForReady(timeoutMs: number): Promise<void> {
    if (!Number.isFinite(timeoutMs) || timeoutMs < 0) throw new RangeError('timeoutMs must be non-negative');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new TrustUnavailableError(`no trust bundles from the Workload API within ${timeoutMs} ms`, {
            cause: this.#lastError,
          }),
        );
      }, timeoutMs);
    });
    try {
      await Promise.race([this.ready, timeout]);
    } catch (error) {
      if (error instanceof TrustUnavailableError) throw error;
      throw new TrustUnavailableError('the Workload API trust bundles are unavailable', { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the stream and releases the connection (when this source created the client). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    this.#stream?.cancel();
    this.#stream = undefined;
    this.#rejectReady(new TrustUnavailableError('the Workload API bundle source was closed'));
    if (this.#ownsClient) await this.#client.close();
  }

  /** Same as {@link WorkloadApiBundleSource.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** `bundle.stale`: the stream failed while the last bundles are still being served. */
  #emitStale(reason: string): void {
    const downSince = this.#downSince;
    if (!this.#received || downSince === undefined || this.#staleBeyondBound()) return;
    this.#events.emit('bundle.stale', () => ({
      ...this.#sourceAttributes,
      'error.type': reason,
      // How long the bundles have gone without updates the agent could have sent.
      'wimse.bundle.age_ms': this.#now() - downSince,
    }));
  }

  #staleBeyondBound(): boolean {
    return this.#downSince !== undefined && this.#now() - this.#downSince > this.#maxStalenessMs;
  }

  #open(): void {
    this.#retryTimer = undefined;
    if (this.#closed) return;
    let receivedOnThisStream = false;
    this.#stream = this.#client.watchJwtBundles({
      onBundles: (bundles) => {
        receivedOnThisStream = true;
        this.#apply(bundles);
      },
      onEnd: (error) => {
        this.#stream = undefined;
        this.#ended(error, receivedOnThisStream);
      },
    });
  }

  #ended(error: WorkloadApiError | undefined, receivedOnThisStream: boolean): void {
    if (this.#closed) return;
    this.#downSince ??= this.#now();
    if (error === undefined && receivedOnThisStream) {
      // A clean end after a healthy stream (agent restarting its stream): re-open at once.
      this.#retryTimer = setTimeout(() => this.#open(), 0);
      this.#retryTimer.unref();
      return;
    }
    const failure =
      error ?? new WorkloadApiError('invalid_response', 'FetchJWTBundles ended without sending bundles');
    this.#lastError = failure;
    if (!failure.retryable) {
      this.#failure = failure;
      this.#rejectReady(failure);
      this.#events.emit('bundle.refresh_failed', () => ({
        ...this.#sourceAttributes,
        'error.type': failure.code,
        'wimse.retrying': false,
      }));
      return;
    }
    const delay = backoffDelay(this.#attempt, this.#backoff);
    this.#attempt += 1;
    this.#events.emit('bundle.refresh_failed', () => ({
      ...this.#sourceAttributes,
      'error.type': failure.code,
      'wimse.retrying': true,
      'wimse.retry_in_ms': delay,
    }));
    this.#emitStale(failure.code);
    this.#retryTimer = setTimeout(() => this.#open(), delay);
    this.#retryTimer.unref();
  }

  #apply(bundles: ReadonlyMap<string, Uint8Array>): void {
    if (this.#closed) return;
    const next = new Map<string, Entry>();
    const unusable = new Map<string, Error>();
    for (const [key, bytes] of bundles) {
      const trustDomain = toTrustDomain(key);
      if (trustDomain === undefined) {
        // Not attributable to any trust domain, so nothing can be marked unavailable.
        this.#events.emit('bundle.refresh_failed', () => ({
          ...this.#sourceAttributes,
          'error.type': 'invalid_trust_domain',
        }));
        continue;
      }
      const name = trustDomain.name;
      if (next.has(name) || unusable.has(name)) {
        next.delete(name);
        unusable.set(name, new WorkloadApiError('invalid_response', 'the trust domain is listed twice'));
        continue;
      }
      const raw = Buffer.from(bytes);
      const previous = this.#entries.get(name);
      if (previous?.raw.equals(raw)) {
        next.set(name, previous);
        continue;
      }
      try {
        // The Workload API's JWT bundles hold JWT-SVID keys only: marking them so keeps them
        // from verifying any other kind of token.
        next.set(name, {
          raw,
          bundle: JwtBundle.fromJwks(trustDomain, raw.toString('utf8'), { use: 'jwt-svid' }),
        });
      } catch (error) {
        const attributes = {
          ...this.#sourceAttributes,
          'wimse.trust_domain': name,
          'error.type': errorType(error),
        };
        this.#events.emit('bundle.refresh_failed', () => attributes);
        // Like a failed file reload: the last good bundle stays; without one, fail closed.
        if (previous !== undefined) {
          next.set(name, previous);
          this.#events.emit('bundle.stale', () => attributes);
        } else {
          unusable.set(name, error instanceof Error ? error : new Error(String(error)));
        }
      }
    }

    const changed: Array<[string, 'added' | 'replaced' | 'removed']> = [];
    for (const [name, entry] of next) {
      const previous = this.#entries.get(name);
      if (previous === undefined) changed.push([name, 'added']);
      else if (previous !== entry) changed.push([name, 'replaced']);
    }
    for (const name of this.#entries.keys()) if (!next.has(name)) changed.push([name, 'removed']);

    this.#entries.clear();
    for (const [name, entry] of next) this.#entries.set(name, entry);
    this.#unusable.clear();
    for (const [name, error] of unusable) this.#unusable.set(name, error);
    this.#received = true;
    this.#downSince = undefined;
    this.#lastError = undefined;
    this.#attempt = 0;
    this.#resolveReady();
    for (const [name, change] of changed) {
      this.#events.emit('bundle.updated', () => ({
        ...this.#sourceAttributes,
        'wimse.trust_domain': name,
        'wimse.bundle_change': change,
      }));
    }
  }
}
