import { type ChallengeOptions, wwwAuthenticate } from '../errors/challenge.js';
import {
  AuthenticationError,
  type CredentialKind,
  isWimseError,
  TrustUnavailableError,
  type WimseError,
  withCredential,
} from '../errors/errors.js';
import type { TrustDomain } from '../identifiers/spiffe-id.js';
import { EventEmitter, type WimseEvent, type WimseEventListener } from '../observability/events.js';
import { MemoryReplayStore } from '../replay/memory-replay-store.js';
import type { ReplayStore } from '../replay/replay-store.js';
import type { BundleSource } from '../trust/bundle-source.js';
import type { JwtBundle } from '../trust/jwt-bundle.js';
import { sha256Base64Url } from '../util/base64url.js';
import type { IssuerPolicy, TimeOptions } from '../verify/common-options.js';
import {
  checkJwtSvidTime,
  checkJwtSvidUse,
  type JwtSvidSettings,
  resolveJwtSvidSettings,
  type SignedJwtSvid,
  verifyJwtSvidSignature,
} from '../verify/jwt-svid.js';
import {
  checkWitUse,
  type LegacyOptions,
  resolveWitSettings,
  type SignedWit,
  verifyWitSignature,
  type WitProfile,
  type WitSettings,
} from '../verify/wit.js';
import { resolveWptSettings, verifyWpt, type WptSettings } from '../verify/wpt.js';
import { type AudienceOptions, AudiencePolicy } from './audience-policy.js';
import {
  checkAuthorizationToken,
  locateCredentials,
  otherTokens,
  type PresentedCredentials,
  txnToken,
} from './credentials.js';
import { guardedBundleSource, resolveDependencyTimeout, withinDeadline } from './dependency-guards.js';
import type { HttpRequestLike } from './http-request.js';
import { createPrincipal, type WorkloadPrincipal } from './principal.js';
import { VerifiedTokenCache } from './verified-token-cache.js';

/** Every credential form, in the default order of preference for challenges. */
export const CREDENTIAL_KINDS: readonly CredentialKind[] = Object.freeze([
  'wpt-authorization',
  'wpt-header',
  'jwt-svid',
]);

/** Options of {@link createAuthenticator}. */
export interface AuthenticatorOptions extends TimeOptions {
  /** Trust bundles, selected by the trust domain of each token's subject. */
  trust: BundleSource;
  /** Where acceptable audiences come from. Required. */
  audience: AudienceOptions;
  /** Credential forms accepted. Default: all three. */
  accept?: readonly CredentialKind[];
  /** Remembers proof `jti`s. Default: a bounded {@link MemoryReplayStore} (single process only). */
  replayStore?: ReplayStore;
  /** Longest accepted proof lifetime in seconds. Default 300. */
  maxProofLifetime?: number;
  /** WIT profile. Default `wimse`. */
  witProfile?: WitProfile;
  /** Restricts WIT (and `cnf.jwk`) algorithms. */
  witAlgorithms?: readonly string[];
  /** Restricts JWT-SVID algorithms. */
  jwtSvidAlgorithms?: readonly string[];
  /** Accept bundle keys without a SPIFFE `use` for both token types. Default true. */
  allowUnmarkedKeys?: boolean;
  /** Allowed `iss` per trust domain. */
  issuers?: IssuerPolicy;
  /** Older-draft compatibility. */
  legacy?: LegacyOptions;
  /**
   * Lower-case names of headers carrying other identity or authorization-context tokens
   * that proofs must bind with `oth` (for example `x-custom-context`).
   */
  otherTokenHeaders?: readonly string[];
  /**
   * Sizes of the verified-token caches (entries; 0 disables). Default 10 000 each. A token is
   * cached from its second verification on, so that tokens sent only once never displace the
   * ones callers reuse.
   */
  cacheSize?: { wit?: number; jwtSvid?: number };
  /** Longest token accepted, in characters. Default 16384. */
  maxTokenLength?: number;
  /**
   * Longest wait, in milliseconds, for the trust source (`getBundle`) and for the replay
   * store on one request. Past it the request fails closed with 503 `trust_unavailable`, so
   * a hanging dependency cannot hold requests open. Synchronous answers are never delayed.
   * Default 5000.
   */
  dependencyTimeoutMs?: number;
  /**
   * Receives `authenticated`, `rejected`, `replay`, `cache.hit` and `cache.miss` events (also
   * published on `diagnostics_channel` as `wimse-auth:<name>`). Never given token material.
   */
  onEvent?: WimseEventListener;
}

/** Authenticates requests; create once, use for every request. */
export interface Authenticator {
  /**
   * Authenticates one request.
   * @returns the caller
   * @throws WimseError: AuthenticationError (401) or TrustUnavailableError (503); nothing else
   */
  authenticate(request: HttpRequestLike): Promise<WorkloadPrincipal>;
  /**
   * Like {@link Authenticator.authenticate}, but resolves `undefined` when the request
   * carries no credential at all. A credential that is present and invalid still rejects:
   * this is what optional authentication (`credentialsRequired: false`) means.
   */
  authenticateIfPresent(request: HttpRequestLike): Promise<WorkloadPrincipal | undefined>;
  /** The credential forms this authenticator accepts. */
  readonly accept: readonly CredentialKind[];
  /** `WWW-Authenticate` challenges for a failure (or for an unauthenticated request). */
  challenges(error?: WimseError, options?: Omit<ChallengeOptions, 'accept'>): string[];
}

interface Settings {
  /** The configured source, bounded by `dependencyTimeoutMs` and checked (see guardedBundleSource). */
  readonly trust: BundleSource;
  readonly dependencyTimeoutMs: number;
  readonly accept: ReadonlySet<CredentialKind>;
  readonly audience: AudiencePolicy;
  readonly replayStore: ReplayStore;
  readonly wit: WitSettings;
  readonly wpt: WptSettings;
  readonly jwtSvid: JwtSvidSettings;
  readonly otherTokenHeaders: readonly string[];
}

function resolveAccept(accept: readonly CredentialKind[] | undefined): ReadonlySet<CredentialKind> {
  const kinds = accept ?? CREDENTIAL_KINDS;
  if (kinds.length === 0) throw new TypeError('accept must name at least one credential form');
  for (const kind of kinds) {
    if (!CREDENTIAL_KINDS.includes(kind)) {
      throw new TypeError(
        `unknown credential form ${JSON.stringify(kind)}; expected one of ${CREDENTIAL_KINDS}`,
      );
    }
  }
  return new Set(kinds);
}

function resolveSettings(options: AuthenticatorOptions): Settings {
  if (options === undefined || typeof options !== 'object')
    throw new TypeError('authenticator options are required');
  if (
    options.trust === undefined ||
    options.trust === null ||
    typeof options.trust.getBundle !== 'function'
  ) {
    throw new TypeError('trust must be a BundleSource (an object with getBundle)');
  }
  const dependencyTimeoutMs = resolveDependencyTimeout(options.dependencyTimeoutMs);
  const trust = guardedBundleSource(options.trust, dependencyTimeoutMs);
  const timeOptions: TimeOptions = {};
  if (options.clock !== undefined) timeOptions.clock = options.clock;
  if (options.clockTolerance !== undefined) timeOptions.clockTolerance = options.clockTolerance;
  const common = {
    ...timeOptions,
    trust,
    ...(options.allowUnmarkedKeys === undefined ? {} : { allowUnmarkedKeys: options.allowUnmarkedKeys }),
    ...(options.issuers === undefined ? {} : { issuers: options.issuers }),
    ...(options.maxTokenLength === undefined ? {} : { maxTokenLength: options.maxTokenLength }),
  };
  const wpt = resolveWptSettings({
    ...timeOptions,
    ...(options.maxProofLifetime === undefined ? {} : { maxProofLifetime: options.maxProofLifetime }),
    ...(options.legacy === undefined ? {} : { legacy: options.legacy }),
    ...(options.maxTokenLength === undefined ? {} : { maxTokenLength: options.maxTokenLength }),
  });
  const clock = wpt.time.clock;
  const otherTokenHeaders = (options.otherTokenHeaders ?? []).map((name) => {
    if (typeof name !== 'string' || name.length === 0 || name !== name.toLowerCase()) {
      throw new TypeError('otherTokenHeaders must be lower-case header names');
    }
    return name;
  });
  return {
    trust,
    dependencyTimeoutMs,
    accept: resolveAccept(options.accept),
    audience: new AudiencePolicy(options.audience),
    // With the system clock the store also keeps real (monotonic) time, which a clock step
    // cannot move; an injected clock drives the store alone.
    replayStore:
      options.replayStore ??
      new MemoryReplayStore(options.clock === undefined ? {} : { now: () => clock().getTime() }),
    wit: resolveWitSettings({
      ...common,
      ...(options.witProfile === undefined ? {} : { profile: options.witProfile }),
      ...(options.witAlgorithms === undefined ? {} : { algorithms: options.witAlgorithms }),
      ...(options.legacy === undefined ? {} : { legacy: options.legacy }),
    }),
    wpt,
    jwtSvid: resolveJwtSvidSettings({
      ...common,
      ...(options.jwtSvidAlgorithms === undefined ? {} : { algorithms: options.jwtSvidAlgorithms }),
    }),
    otherTokenHeaders,
  };
}

function bundleSourceFailed(cause: unknown): never {
  if (isWimseError(cause)) throw cause;
  throw new TrustUnavailableError('trust bundle source failed', { cause });
}

/** The bundle a cached entry was verified with is still current for its trust domain. */
function stillCurrent(
  trust: BundleSource,
  trustDomain: TrustDomain,
  bundle: JwtBundle,
): boolean | Promise<boolean> {
  let current: ReturnType<BundleSource['getBundle']>;
  try {
    current = trust.getBundle(trustDomain);
  } catch (cause) {
    return bundleSourceFailed(cause);
  }
  // Sources answer from memory on the hot path: no promise, no extra microtask, for a hit.
  if (current instanceof Promise) return current.then((answer) => answer === bundle, bundleSourceFailed);
  return current === bundle;
}

/** Optional authentication: a request with no credential at all has no caller. */
function undefinedWhenMissing(error: unknown): undefined {
  if (isWimseError(error) && error.code === 'credentials_missing') return undefined;
  throw error;
}

// Event attributes built only when someone listens (see EventEmitter.emit).
const WIT_CACHE = Object.freeze({ 'wimse.cache': 'wit' });
const JWT_SVID_CACHE = Object.freeze({ 'wimse.cache': 'jwt-svid' });
function authenticatedAttributes(principal: WorkloadPrincipal): WimseEvent['attributes'] {
  return {
    'wimse.workload.id': principal.id,
    'wimse.trust_domain': principal.trustDomain,
    'wimse.credential': principal.credential,
    'wimse.credential.form': principal.credentialForm,
  };
}

class RequestAuthenticator implements Authenticator {
  readonly #settings: Settings;
  readonly #wits: VerifiedTokenCache<SignedWit>;
  readonly #jwtSvids: VerifiedTokenCache<SignedJwtSvid>;
  // Weak: an entry's principal goes when the cache evicts the entry.
  readonly #jwtSvidPrincipals = new WeakMap<
    SignedJwtSvid,
    { readonly principal: WorkloadPrincipal; readonly forAnyRequest: boolean }
  >();
  readonly #events: EventEmitter;
  readonly accept: readonly CredentialKind[];

  constructor(options: AuthenticatorOptions) {
    this.#settings = resolveSettings(options);
    this.#events = new EventEmitter(options.onEvent);
    this.#wits = new VerifiedTokenCache(options.cacheSize?.wit ?? 10_000);
    this.#jwtSvids = new VerifiedTokenCache(options.cacheSize?.jwtSvid ?? 10_000);
    this.accept = Object.freeze([...this.#settings.accept]);
  }

  challenges(error?: WimseError, options: Omit<ChallengeOptions, 'accept'> = {}): string[] {
    return wwwAuthenticate(error, { ...options, accept: this.accept });
  }

  async authenticate(request: HttpRequestLike): Promise<WorkloadPrincipal> {
    return this.#attempt(request);
  }

  async authenticateIfPresent(request: HttpRequestLike): Promise<WorkloadPrincipal | undefined> {
    return this.answerNow(request, false);
  }

  /**
   * {@link authenticateRequest} for this authenticator: the caller (or `undefined` for an
   * optional request without credentials) synchronously when the verified-token cache
   * answers, else a promise; failures are thrown synchronously or rejected accordingly.
   */
  answerNow(
    request: HttpRequestLike,
    credentialsRequired: boolean,
  ): WorkloadPrincipal | undefined | Promise<WorkloadPrincipal | undefined> {
    if (credentialsRequired) return this.#attempt(request);
    try {
      const outcome = this.#attempt(request);
      return outcome instanceof Promise ? outcome.catch(undefinedWhenMissing) : outcome;
    } catch (error) {
      return undefinedWhenMissing(error);
    }
  }

  /** One authentication: synchronous for a cached credential, throwing synchronously then. */
  #attempt(request: HttpRequestLike): WorkloadPrincipal | Promise<WorkloadPrincipal> {
    let form: CredentialKind | undefined;
    try {
      const presented = locateCredentials(request.headers, this.#settings.accept);
      form = presented.kind;
      const outcome =
        presented.kind === 'jwt-svid'
          ? this.#authenticateJwtSvid(request, presented.token)
          : this.#authenticateProof(request, presented);
      if (outcome instanceof Promise) {
        const settledForm = form;
        return outcome.then(
          (principal) => this.#accepted(principal),
          (error: unknown) => {
            throw this.#refused(error, settledForm);
          },
        );
      }
      return this.#accepted(outcome);
    } catch (error) {
      throw this.#refused(error, form);
    }
  }

  #accepted(principal: WorkloadPrincipal): WorkloadPrincipal {
    this.#events.emit('authenticated', authenticatedAttributes, principal);
    return principal;
  }

  /** Fail closed: whatever went wrong, the caller gets a WimseError, never acceptance. */
  #refused(error: unknown, form: CredentialKind | undefined): WimseError {
    const wimseError = isWimseError(error)
      ? error
      : new AuthenticationError('credentials_malformed', 'the request could not be authenticated', {
          cause: error,
        });
    this.#events.emit('rejected', () => ({
      'error.type': wimseError.code,
      'http.response.status_code': wimseError.status,
      ...(form === undefined ? {} : { 'wimse.credential.form': form }),
    }));
    return form === undefined ? wimseError : withCredential(wimseError, form);
  }

  /**
   * The verified token from `cache`, or freshly verified when it is missing or was verified
   * with a bundle its trust domain no longer has.
   */
  #verifiedOnce<Entry extends { readonly bundle: JwtBundle }>(
    cache: VerifiedTokenCache<Entry>,
    kind: 'wit' | 'jwt-svid',
    token: string,
    connection: object | undefined,
    trustDomainOf: (entry: Entry) => TrustDomain,
    verify: () => Promise<Entry>,
  ): Entry | Promise<Entry> {
    const cached = cache.get(token, connection);
    if (cached !== undefined) {
      // A repeated token whose bundle is still current is answered synchronously.
      const current = stillCurrent(this.#settings.trust, trustDomainOf(cached), cached.bundle);
      if (current === true) return this.#hit(kind, cached);
      if (current !== false) {
        return current.then((still) =>
          still ? this.#hit(kind, cached) : this.#verifyAndRemember(cache, kind, token, connection, verify),
        );
      }
    }
    return this.#verifyAndRemember(cache, kind, token, connection, verify);
  }

  #hit<Entry>(kind: 'wit' | 'jwt-svid', entry: Entry): Entry {
    this.#events.emit('cache.hit', kind === 'wit' ? WIT_CACHE : JWT_SVID_CACHE);
    return entry;
  }

  async #verifyAndRemember<Entry>(
    cache: VerifiedTokenCache<Entry & object>,
    kind: 'wit' | 'jwt-svid',
    token: string,
    connection: object | undefined,
    verify: () => Promise<Entry & object>,
  ): Promise<Entry & object> {
    this.#events.emit('cache.miss', kind === 'wit' ? WIT_CACHE : JWT_SVID_CACHE);
    const entry = await verify();
    cache.admit(token, entry, connection);
    return entry;
  }

  async #authenticateProof(
    request: HttpRequestLike,
    presented: Extract<PresentedCredentials, { kind: 'wpt-authorization' | 'wpt-header' }>,
  ): Promise<WorkloadPrincipal> {
    const settings = this.#settings;
    const signed = await this.#verifiedOnce(
      this.#wits,
      'wit',
      presented.wit,
      request.connection,
      (entry) => entry.trustDomain,
      () => verifyWitSignature(presented.wit, settings.wit),
    );
    checkWitUse(signed, settings.wit.time);
    const { wit } = signed;
    const proof = await verifyWpt(
      presented.wpt,
      wit,
      {
        audience: settings.audience.acceptable(request, presented.kind),
        accessToken: presented.accessToken,
        txnToken: txnToken(request.headers),
        otherTokens: otherTokens(request.headers, settings.otherTokenHeaders),
      },
      settings.wpt,
    );
    await this.#rememberProof(wit.identifier.toString(), proof.jti, proof.expiresAt);
    return createPrincipal(
      {
        id: wit.identifier.toString(),
        ...(wit.identifier.spiffeId === undefined ? {} : { spiffeId: wit.identifier.spiffeId }),
        trustDomain: wit.identifier.trustDomain,
        credential: 'wpt',
        credentialForm: presented.kind,
        claims: wit.claims,
        expiresAt: wit.expiresAt,
        wit: {
          header: wit.header,
          claims: wit.claims,
          proof: { header: proof.header, claims: proof.claims, jti: proof.jti, expiresAt: proof.expiresAt },
        },
      },
      presented.accessToken,
    );
  }

  async #rememberProof(callerId: string, jti: string, expiresAt: Date): Promise<void> {
    const { replayStore, wpt, dependencyTimeoutMs } = this.#settings;
    // Hashing bounds key size and keeps hostile jti bytes out of the store's key space.
    const key = sha256Base64Url(JSON.stringify([callerId, jti]));
    const rememberUntil = expiresAt.getTime() + wpt.time.tolerance * 1000;
    let fresh: boolean;
    try {
      fresh = await withinDeadline(
        replayStore.checkAndRemember(key, rememberUntil),
        dependencyTimeoutMs,
        'replay store',
      );
    } catch (cause) {
      if (isWimseError(cause)) throw cause;
      throw new TrustUnavailableError('replay store unavailable', { cause });
    }
    if (!fresh) {
      this.#events.emit('replay', () => ({ 'wimse.workload.id': callerId }));
      throw new AuthenticationError('replay_detected', 'this proof was already used');
    }
  }

  #authenticateJwtSvid(
    request: HttpRequestLike,
    token: string,
  ): WorkloadPrincipal | Promise<WorkloadPrincipal> {
    const settings = this.#settings;
    const signed = this.#verifiedOnce(
      this.#jwtSvids,
      'jwt-svid',
      token,
      request.connection,
      (entry) => entry.svid.spiffeId.trustDomain,
      () => {
        // Deferred by locateCredentials: a token equal to a verified one cannot hold whitespace.
        checkAuthorizationToken(token);
        return verifyJwtSvidSignature(token, settings.jwtSvid);
      },
    );
    // A cached token is answered without a promise of its own.
    return signed instanceof Promise
      ? signed.then((entry) => this.#jwtSvidPrincipal(request, entry))
      : this.#jwtSvidPrincipal(request, signed);
  }

  #jwtSvidPrincipal(request: HttpRequestLike, signed: SignedJwtSvid): WorkloadPrincipal {
    const settings = this.#settings;
    // Everything in a JWT-SVID principal comes from the token, and so does whether its
    // audience names a configured origin or value: a repeated token's (frozen) principal and
    // that answer are worked out once, and only time is checked again on every request.
    let known = this.#jwtSvidPrincipals.get(signed);
    if (known === undefined) {
      const { svid } = signed;
      known = {
        principal: createPrincipal({
          id: svid.spiffeId.toString(),
          spiffeId: svid.spiffeId,
          trustDomain: svid.spiffeId.trustDomain.name,
          credential: 'jwt-svid',
          credentialForm: 'jwt-svid',
          claims: svid.claims,
          expiresAt: svid.expiresAt,
        }),
        forAnyRequest: settings.audience.acceptsJwtSvidForAnyRequest(signed.audiences),
      };
      this.#jwtSvidPrincipals.set(signed, known);
    }
    if (known.forAnyRequest) checkJwtSvidTime(signed, settings.jwtSvid.time);
    else checkJwtSvidUse(signed, settings.audience.acceptable(request, 'jwt-svid'), settings.jwtSvid.time);
    return known.principal;
  }
}

/**
 * Authenticates a request for an adapter's middleware: `authenticate` when
 * `credentialsRequired`, else `authenticateIfPresent`, except that an authenticator made by
 * {@link createAuthenticator} answers a credential its verified-token cache already holds (a
 * repeated JWT-SVID) synchronously, without a promise, and throws its failures synchronously
 * too. Middleware on the hot path can then skip a promise and two microtask turns per
 * request. Any other {@link Authenticator} is simply called and its promise returned.
 * @returns the caller, `undefined` (optional and no credential at all), or a promise of either
 * @throws WimseError synchronously, or rejects with one
 */
export function authenticateRequest(
  authenticator: Authenticator,
  request: HttpRequestLike,
  credentialsRequired: boolean,
): WorkloadPrincipal | undefined | Promise<WorkloadPrincipal | undefined> {
  if (authenticator instanceof RequestAuthenticator)
    return authenticator.answerNow(request, credentialsRequired);
  return credentialsRequired
    ? authenticator.authenticate(request)
    : authenticator.authenticateIfPresent(request);
}

/** What adapters accept: the core options, or an authenticator built with {@link createAuthenticator}. */
export type AuthenticatorSource = AuthenticatorOptions | { readonly authenticator: Authenticator };

/**
 * The authenticator an adapter should use: the one given, or one built from the core
 * options. Adapters strip their own option keys first; mixing `authenticator` with core
 * options is refused, since the core options would be silently ignored.
 * @throws TypeError on missing, mixed or invalid options
 */
export function authenticatorFrom(source: AuthenticatorSource): Authenticator {
  if (source === null || typeof source !== 'object') {
    throw new TypeError('options are required: the core authenticator options, or { authenticator }');
  }
  if ('authenticator' in source && source.authenticator !== undefined) {
    const { authenticator, ...rest } = source;
    if (
      typeof authenticator.authenticate !== 'function' ||
      typeof authenticator.authenticateIfPresent !== 'function' ||
      typeof authenticator.challenges !== 'function'
    ) {
      throw new TypeError('authenticator must be a core Authenticator (see createAuthenticator)');
    }
    const mixed = Object.keys(rest);
    if (mixed.length > 0) {
      throw new TypeError(
        `pass either { authenticator } or the core options, not both (got ${mixed.join(', ')})`,
      );
    }
    return authenticator;
  }
  return createAuthenticator(source as AuthenticatorOptions);
}

/**
 * Creates the request authenticator every adapter uses. Options are validated here: an
 * empty audience configuration, a missing trust source or an unknown credential form
 * throws immediately.
 */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  return new RequestAuthenticator(options);
}
