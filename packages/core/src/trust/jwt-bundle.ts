import { importJWK, type JWK } from 'jose';
import { AuthenticationError } from '../errors/errors.js';
import { TrustDomain } from '../identifiers/spiffe-id.js';
import { hasPrivateMembers, isSupportedKeyShape, keyFitsAlgorithm } from '../jose/algorithms.js';
import type { PublicJwk, VerificationKey } from '../jose/key-types.js';
import { isBase64UrlSegment } from '../util/base64url.js';
import { parseJsonObjectStrictWithSources } from '../util/strict-json.js';

/** What a trust bundle says a key may sign: JWT-SVIDs or WIT-SVIDs (the SPIFFE `use` values). */
export type KeyUse = 'jwt-svid' | 'wit-svid';

/** Why a bundle document was rejected. Stable and safe to log. */
export type InvalidBundleReason =
  | 'malformed_json'
  | 'not_an_object'
  | 'keys_missing'
  | 'invalid_key'
  | 'unsupported_key'
  | 'missing_kid'
  | 'duplicate_kid'
  | 'private_key_material'
  | 'invalid_x509_svid_entry'
  | 'invalid_sequence'
  | 'invalid_refresh_hint'
  | 'trust_domains_missing'
  | 'invalid_trust_domain'
  | 'duplicate_trust_domain'
  | 'too_many_keys';

/**
 * A trust bundle document (or a key in one) is unusable. Thrown by the bundle
 * constructors and parsers. The message names positions and trust domains, never key
 * material.
 */
export class InvalidBundleError extends Error {
  override readonly name = 'InvalidBundleError';
  /** Machine-readable reason. */
  readonly reason: InvalidBundleReason;

  constructor(reason: InvalidBundleReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}

const SPIFFE_KEY_USES: ReadonlySet<string> = new Set(['jwt-svid', 'wit-svid']);
const MAX_UINT64 = 2n ** 64n - 1n;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// Own members only: a document must not pick up values from Object.prototype.
function member(object: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

/**
 * Whether this library can verify with a key of this shape: EC P-256/384/521, RSA and
 * OKP Ed25519. Symmetric (`oct`) keys, encryption curves and unknown types are not
 * verification keys; document parsers skip them, as RFC 7517 §5 and the SPIFFE bundle
 * spec (§4.2.1) require for unknown types.
 */
function isSupportedJwkShape(jwk: Record<string, unknown>): boolean {
  return isSupportedKeyShape(member(jwk, 'kty'), member(jwk, 'crv'));
}

// A key whose own `key_ops` excludes verification must not verify anything.
function allowsVerification(jwk: Record<string, unknown>): boolean {
  const keyOps = member(jwk, 'key_ops');
  return keyOps === undefined || (Array.isArray(keyOps) && keyOps.includes('verify'));
}

function requireBase64Url(jwk: Record<string, unknown>, name: string): void {
  const value = member(jwk, name);
  if (typeof value !== 'string' || !isBase64UrlSegment(value)) {
    throw new InvalidBundleError('invalid_key', `key member "${name}" must be a base64url string`);
  }
}

/** The public JWK members jose needs, copied so nothing else (use, key_ops, ext, x5c) reaches it. */
function publicJwk(jwk: Record<string, unknown>, kid: string): PublicJwk {
  const kty = member(jwk, 'kty') as string;
  const alg = member(jwk, 'alg');
  if (alg !== undefined && typeof alg !== 'string') {
    throw new InvalidBundleError('invalid_key', 'key member "alg" must be a string');
  }
  const copy: JWK = { kty, kid };
  if (kty === 'RSA') {
    requireBase64Url(jwk, 'n');
    requireBase64Url(jwk, 'e');
    copy.n = member(jwk, 'n') as string;
    copy.e = member(jwk, 'e') as string;
  } else {
    copy.crv = member(jwk, 'crv') as string;
    requireBase64Url(jwk, 'x');
    copy.x = member(jwk, 'x') as string;
    if (kty === 'EC') {
      requireBase64Url(jwk, 'y');
      copy.y = member(jwk, 'y') as string;
    }
  }
  if (alg !== undefined) copy.alg = alg;
  return Object.freeze(copy) as PublicJwk;
}

/** One public signing key of a trust domain. */
export class BundleKey {
  /** Key ID; always present, since tokens select keys by it. */
  readonly kid: string;
  /** What the source says the key signs; `undefined` when it marked no use (plain JWKS, Workload API). */
  readonly use: KeyUse | undefined;
  /** The JWK's own `alg`, when it declares one; the key then verifies only that algorithm. */
  readonly alg: string | undefined;
  /** JWK key type: `EC`, `RSA` or `OKP`. */
  readonly kty: string;
  /** Curve for EC and OKP keys. */
  readonly crv: string | undefined;
  /** The public members only, without `use`, `key_ops` or `ext` (jose refuses keys whose `use` is not `sig`). */
  readonly jwk: PublicJwk;
  // Keyed by algorithm; only algorithms that fit the key get an entry, so a token's
  // arbitrary `alg` values cannot grow it.
  readonly #imports = new Map<string, Promise<VerificationKey>>();

  /**
   * Validates a public JWK and wraps it.
   * @param jwk A public EC (P-256/384/521), RSA or OKP (Ed25519) key with a `kid`.
   * @param use What the key may sign; omit for a source that marks no use.
   * @throws InvalidBundleError
   */
  constructor(jwk: PublicJwk | Record<string, unknown>, use?: KeyUse) {
    const source = jwk as Record<string, unknown>;
    if (!isPlainObject(source)) throw new InvalidBundleError('invalid_key', 'key is not a JSON object');
    if (hasPrivateMembers(source)) {
      throw new InvalidBundleError('private_key_material', 'key contains private or symmetric key material');
    }
    if (!isSupportedJwkShape(source)) {
      throw new InvalidBundleError('unsupported_key', 'key has an unsupported key type or curve');
    }
    const kid = member(source, 'kid');
    if (typeof kid !== 'string' || kid.length === 0) {
      throw new InvalidBundleError('missing_kid', 'key has no "kid"');
    }
    this.jwk = publicJwk(source, kid);
    this.kid = kid;
    this.use = use;
    this.alg = this.jwk.alg;
    this.kty = this.jwk.kty as string;
    this.crv = this.jwk.crv;
  }

  /** True when this key can verify signatures made with `alg` (and its own `alg`, if any, agrees). */
  supportsAlgorithm(alg: string): boolean {
    if (this.alg !== undefined && this.alg !== alg) return false;
    return keyFitsAlgorithm(alg, this.kty, this.crv);
  }

  /**
   * The key imported for `alg`. Imported once per algorithm; concurrent callers share
   * the same promise.
   * @returns A promise that rejects with {@link AuthenticationError} `invalid_signature`
   * when the key cannot verify `alg` (see {@link BundleKey.supportsAlgorithm}) or fails to import.
   */
  cryptoKey(alg: string): Promise<VerificationKey> {
    const cached = this.#imports.get(alg);
    if (cached !== undefined) return cached;
    if (!this.supportsAlgorithm(alg)) {
      return Promise.reject(
        new AuthenticationError('invalid_signature', 'the signing key does not support the token algorithm'),
      );
    }
    const imported = importJWK(this.jwk as JWK, alg).then(
      (key) => {
        if (key instanceof Uint8Array) throw new TypeError('expected an asymmetric key');
        return key as VerificationKey;
      },
      (cause: unknown) => {
        throw new AuthenticationError('invalid_signature', 'the signing key could not be imported', {
          cause,
        });
      },
    );
    this.#imports.set(alg, imported);
    return imported;
  }
}

/** Optional metadata of a {@link JwtBundle}. */
export interface JwtBundleInit {
  /** `spiffe_sequence`: orders bundle versions (uint64). */
  sequence?: bigint;
  /** `spiffe_refresh_hint`: how often, in seconds, the source suggests re-fetching. */
  refreshHintSeconds?: number;
}

/** Options of the {@link JwtBundle} document parsers. */
export interface BundleParseOptions {
  /**
   * Refuse a document whose `keys` array has more entries than this (`too_many_keys`),
   * before any entry is examined. For documents fetched from the network. Default: no limit.
   */
  maxKeys?: number;
}

/** Options of {@link JwtBundle.fromJwks}. */
export interface JwksOptions extends BundleParseOptions {
  /** Mark every key without a SPIFFE `use` as usable for this purpose only. */
  use?: KeyUse;
}

function toTrustDomain(trustDomain: TrustDomain | string): TrustDomain {
  return typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain;
}

interface BundleDocument {
  object: Record<string, unknown>;
  /** Raw source text of members, when the document arrived as text. */
  memberSources: ReadonlyMap<string, string> | undefined;
}

function readDocument(document: string | object): BundleDocument {
  if (typeof document === 'string') {
    try {
      const { object, memberSources } = parseJsonObjectStrictWithSources(document);
      return { object, memberSources };
    } catch (cause) {
      throw new InvalidBundleError('malformed_json', 'bundle document is not a strict JSON object', {
        cause,
      });
    }
  }
  if (!isPlainObject(document))
    throw new InvalidBundleError('not_an_object', 'bundle document is not an object');
  return { object: document, memberSources: undefined };
}

function readKeys(object: Record<string, unknown>, maxKeys: number | undefined): unknown[] {
  const keys = member(object, 'keys');
  if (keys === undefined)
    throw new InvalidBundleError('keys_missing', 'bundle document has no "keys" member');
  if (!Array.isArray(keys))
    throw new InvalidBundleError('keys_missing', 'bundle "keys" member is not an array');
  if (maxKeys !== undefined && keys.length > maxKeys) {
    throw new InvalidBundleError('too_many_keys', `bundle has more than ${maxKeys} keys`);
  }
  return keys;
}

function invalidSequence(): InvalidBundleError {
  return new InvalidBundleError('invalid_sequence', '"spiffe_sequence" must be an unsigned 64-bit integer');
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

function checkSequenceRange(sequence: bigint): bigint {
  if (sequence < 0n || sequence > MAX_UINT64) throw invalidSequence();
  return sequence;
}

/** `spiffe_sequence` without precision loss: from its source digits when the document was text. */
function readSequence(document: BundleDocument): bigint | undefined {
  const value = member(document.object, 'spiffe_sequence');
  if (value === undefined) return undefined;
  const source = document.memberSources?.get('spiffe_sequence');
  if (source !== undefined) {
    if (!isDigits(source)) throw invalidSequence();
    return checkSequenceRange(BigInt(source));
  }
  if (typeof value === 'bigint') return checkSequenceRange(value);
  // A number above 2^53 has already lost digits; refuse it rather than guess.
  if (typeof value === 'number' && Number.isSafeInteger(value)) return checkSequenceRange(BigInt(value));
  throw invalidSequence();
}

function isRefreshHint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function readRefreshHint(object: Record<string, unknown>): number | undefined {
  const value = member(object, 'spiffe_refresh_hint');
  if (value === undefined) return undefined;
  if (!isRefreshHint(value)) {
    throw new InvalidBundleError(
      'invalid_refresh_hint',
      '"spiffe_refresh_hint" must be a non-negative integer',
    );
  }
  return value;
}

function initOf(sequence: bigint | undefined, refreshHintSeconds: number | undefined): JwtBundleInit {
  const init: JwtBundleInit = {};
  if (sequence !== undefined) init.sequence = sequence;
  if (refreshHintSeconds !== undefined) init.refreshHintSeconds = refreshHintSeconds;
  return init;
}

/** Validates an `x509-svid` entry, which is not a JWT key but must still be well formed. */
function checkX509Entry(entry: Record<string, unknown>, where: string): void {
  const chain = member(entry, 'x5c');
  if (!Array.isArray(chain) || chain.length !== 1 || typeof chain[0] !== 'string' || chain[0].length === 0) {
    throw new InvalidBundleError(
      'invalid_x509_svid_entry',
      `${where}: an x509-svid entry needs exactly one certificate`,
    );
  }
}

function keyEntry(entry: unknown, where: string): Record<string, unknown> {
  if (!isPlainObject(entry)) throw new InvalidBundleError('invalid_key', `${where} is not a JSON object`);
  // A private key in a published bundle is an operator error worth failing loudly on.
  if (hasPrivateMembers(entry) && member(entry, 'kty') !== 'oct') {
    throw new InvalidBundleError('private_key_material', `${where} contains private key material`);
  }
  return entry;
}

// Names the failing key's position, so an operator can find it without the key being logged.
function bundleKeyAt(index: number, entry: Record<string, unknown>, use: KeyUse | undefined): BundleKey {
  try {
    return new BundleKey(entry, use);
  } catch (error) {
    if (!(error instanceof InvalidBundleError)) throw error;
    throw new InvalidBundleError(error.reason, `key ${index}: ${error.message}`);
  }
}

/**
 * The JWT signing keys of one trust domain. Immutable: an update creates a new
 * JwtBundle, so verifiers can compare bundle identity to invalidate caches.
 */
export class JwtBundle {
  /** The trust domain these keys speak for. */
  readonly trustDomain: TrustDomain;
  /** `spiffe_sequence`, exact (uint64). */
  readonly sequence: bigint | undefined;
  /** `spiffe_refresh_hint` in seconds. */
  readonly refreshHintSeconds: number | undefined;
  readonly #keys: readonly BundleKey[];
  readonly #byKid: ReadonlyMap<string, BundleKey>;
  // keysFor() runs per request: precompute [marked only, marked + unmarked] per purpose.
  readonly #byPurpose: Readonly<Record<KeyUse, readonly [readonly BundleKey[], readonly BundleKey[]]>>;

  /**
   * @throws InvalidBundleError on a duplicate `kid` or an out-of-range sequence or refresh hint.
   * @throws InvalidSpiffeIdError when `trustDomain` is not a valid trust domain.
   */
  constructor(trustDomain: TrustDomain | string, keys: readonly BundleKey[], init: JwtBundleInit = {}) {
    this.trustDomain = toTrustDomain(trustDomain);
    if (init.sequence !== undefined) checkSequenceRange(init.sequence);
    if (init.refreshHintSeconds !== undefined && !isRefreshHint(init.refreshHintSeconds)) {
      throw new InvalidBundleError('invalid_refresh_hint', 'refresh hint must be a non-negative integer');
    }
    this.sequence = init.sequence;
    this.refreshHintSeconds = init.refreshHintSeconds;

    const byKid = new Map<string, BundleKey>();
    for (const [index, key] of keys.entries()) {
      // kids are unique across the whole bundle, JWT and WIT keys alike (WIT-SVID §6).
      if (byKid.has(key.kid))
        throw new InvalidBundleError('duplicate_kid', `key ${index} repeats an earlier "kid"`);
      byKid.set(key.kid, key);
    }
    this.#keys = Object.freeze([...keys]);
    this.#byKid = byKid;
    const unmarked = keys.filter((key) => key.use === undefined);
    const purposeKeys = (use: KeyUse): readonly [readonly BundleKey[], readonly BundleKey[]] => {
      const marked = keys.filter((key) => key.use === use);
      return [Object.freeze(marked), Object.freeze([...marked, ...unmarked])];
    };
    this.#byPurpose = { 'jwt-svid': purposeKeys('jwt-svid'), 'wit-svid': purposeKeys('wit-svid') };
  }

  /** Every key, in document order. */
  get keys(): readonly BundleKey[] {
    return this.#keys;
  }

  /** Key by kid, or undefined. */
  getKey(kid: string): BundleKey | undefined {
    return this.#byKid.get(kid);
  }

  /**
   * Keys usable for `purpose`: those whose `use` is `purpose`, plus keys with no `use`
   * when `allowUnmarked` (sources such as the Workload API mark none).
   */
  keysFor(purpose: KeyUse, allowUnmarked: boolean): readonly BundleKey[] {
    return this.#byPurpose[purpose][allowUnmarked ? 1 : 0];
  }

  /**
   * Parses a SPIFFE bundle (SPIFFE_Trust_Domain_and_Bundle §4): a JWK Set with optional
   * `spiffe_sequence` and `spiffe_refresh_hint`. `keys` is required but may be empty (the
   * trust domain then has no valid keys). Keys with a missing or unknown `use`, an
   * unknown `kty`, or a curve this library cannot verify with are ignored; `x509-svid`
   * entries must carry exactly one certificate but are not kept; `jwt-svid` and
   * `wit-svid` keys need a `kid`. Text documents are parsed strictly (no duplicate members).
   * @throws InvalidBundleError
   */
  static fromSpiffeBundle(
    trustDomain: TrustDomain | string,
    document: string | object,
    options: BundleParseOptions = {},
  ): JwtBundle {
    const td = toTrustDomain(trustDomain);
    const parsed = readDocument(document);
    const entries = readKeys(parsed.object, options.maxKeys);
    const keys: BundleKey[] = [];
    for (const [index, raw] of entries.entries()) {
      const where = `key ${index}`;
      const entry = keyEntry(raw, where);
      const use = member(entry, 'use');
      if (use === 'x509-svid') {
        checkX509Entry(entry, where);
        continue;
      }
      if (typeof use !== 'string' || !SPIFFE_KEY_USES.has(use)) continue;
      if (!isSupportedJwkShape(entry) || !allowsVerification(entry)) continue;
      keys.push(bundleKeyAt(index, entry, use as KeyUse));
    }
    return new JwtBundle(td, keys, initOf(readSequence(parsed), readRefreshHint(parsed.object)));
  }

  /**
   * Parses a plain RFC 7517 JWK Set (Workload API FetchJWTBundles, an OIDC `jwks_uri`).
   * Every signing key needs a `kid`. Keys without `use` or with `use: "sig"` are unmarked
   * unless `options.use` marks them; keys that carry a SPIFFE `use` keep it. Keys with
   * `use: "enc"` or another use, symmetric (`oct`) keys and unknown types are ignored.
   * SPIFFE members (`spiffe_sequence`...) are not read.
   * @throws InvalidBundleError, including when any key carries private key members.
   */
  static fromJwks(
    trustDomain: TrustDomain | string,
    jwks: string | object,
    options: JwksOptions = {},
  ): JwtBundle {
    const td = toTrustDomain(trustDomain);
    const entries = readKeys(readDocument(jwks).object, options.maxKeys);
    const keys: BundleKey[] = [];
    for (const [index, raw] of entries.entries()) {
      const where = `key ${index}`;
      const entry = keyEntry(raw, where);
      const use = member(entry, 'use');
      let keyUse: KeyUse | undefined;
      if (use === undefined || use === 'sig') keyUse = options.use;
      else if (typeof use === 'string' && SPIFFE_KEY_USES.has(use)) keyUse = use as KeyUse;
      else continue;
      if (!isSupportedJwkShape(entry) || !allowsVerification(entry)) continue;
      keys.push(bundleKeyAt(index, entry, keyUse));
    }
    return new JwtBundle(td, keys);
  }

  /** RFC 7517 JWK Set view of the bundle (for publishing or debugging); SPIFFE uses are kept. */
  toJwks(): { keys: PublicJwk[] } {
    return {
      keys: this.#keys.map((key) => (key.use === undefined ? { ...key.jwk } : { ...key.jwk, use: key.use })),
    };
  }
}
