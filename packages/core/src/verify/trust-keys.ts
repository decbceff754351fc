import { AuthenticationError, isWimseError, TrustUnavailableError } from '../errors/errors.js';
import type { TrustDomain } from '../identifiers/spiffe-id.js';
import type { JoseHeader } from '../jose/compact-token.js';
import type { VerificationKey } from '../jose/key-types.js';
import type { BundleSource } from '../trust/bundle-source.js';
import type { BundleKey, JwtBundle, KeyUse } from '../trust/jwt-bundle.js';

/**
 * The bundle of the token subject's trust domain. Only that bundle is ever consulted:
 * never one named by `iss`, a URL in the token, or another trust domain.
 * @throws AuthenticationError `untrusted_trust_domain`; TrustUnavailableError when the source fails
 */
export async function bundleForTrustDomain(
  trust: BundleSource,
  trustDomain: TrustDomain,
  what: string,
): Promise<JwtBundle> {
  let bundle: JwtBundle | undefined;
  try {
    bundle = await trust.getBundle(trustDomain);
  } catch (cause) {
    if (isWimseError(cause)) throw cause;
    throw new TrustUnavailableError('trust bundle source failed', { cause });
  }
  if (bundle === undefined) {
    throw new AuthenticationError(
      'untrusted_trust_domain',
      `${what} subject belongs to an untrusted trust domain`,
    );
  }
  return bundle;
}

/** How a verifier picks the signing key out of a bundle. */
export interface KeySelection {
  readonly purpose: KeyUse;
  /** Whether keys without a SPIFFE `use` (plain JWKS, Workload API) may sign this token type. */
  readonly allowUnmarked: boolean;
  /** Whether the token must name its key with `kid`. */
  readonly requireKid: boolean;
}

/**
 * Selects the key that must have signed the token, by `kid` or, when the token has none
 * and policy allows, the single key of the right use.
 * @throws AuthenticationError `unknown_key`
 */
export function selectSigningKey(
  bundle: JwtBundle,
  header: JoseHeader,
  selection: KeySelection,
  what: string,
): BundleKey {
  const usable = (key: BundleKey): boolean =>
    key.use === selection.purpose || (key.use === undefined && selection.allowUnmarked);
  if (header.kid !== undefined) {
    const key = bundle.getKey(header.kid);
    if (key === undefined || !usable(key)) {
      throw new AuthenticationError(
        'unknown_key',
        `${what} "kid" names no ${selection.purpose} key of its trust domain`,
      );
    }
    return key;
  }
  if (selection.requireKid) throw new AuthenticationError('unknown_key', `${what} has no "kid" header`);
  const candidates = bundle.keysFor(selection.purpose, selection.allowUnmarked);
  if (candidates.length !== 1) {
    throw new AuthenticationError(
      'unknown_key',
      `${what} has no "kid" header and its trust domain does not have exactly one ${selection.purpose} key`,
    );
  }
  return candidates[0]!;
}

/**
 * The trust domain's bundle and the key in it that must have signed the token. When the
 * token names a `kid` the bundle lacks and the source can refresh on demand
 * ({@link BundleSource.refreshOnUnknownKey}), the source is asked once and the lookup
 * retried once with the bundle it returns; the source rate-limits its own re-fetches.
 * @throws AuthenticationError `untrusted_trust_domain`, `unknown_key`; TrustUnavailableError
 */
export async function signingKeyFor(
  trust: BundleSource,
  trustDomain: TrustDomain,
  header: JoseHeader,
  selection: KeySelection,
  what: string,
): Promise<{ bundle: JwtBundle; key: BundleKey }> {
  const bundle = await bundleForTrustDomain(trust, trustDomain, what);
  const kid = header.kid;
  if (kid === undefined || bundle.getKey(kid) !== undefined || trust.refreshOnUnknownKey === undefined) {
    return { bundle, key: selectSigningKey(bundle, header, selection, what) };
  }
  let refreshed: JwtBundle | undefined;
  try {
    refreshed = await trust.refreshOnUnknownKey(trustDomain, kid);
  } catch (cause) {
    if (isWimseError(cause)) throw cause;
    throw new TrustUnavailableError('trust bundle source failed', { cause });
  }
  if (refreshed === undefined) {
    throw new AuthenticationError(
      'untrusted_trust_domain',
      `${what} subject belongs to an untrusted trust domain`,
    );
  }
  return { bundle: refreshed, key: selectSigningKey(refreshed, header, selection, what) };
}

/**
 * The key imported for `alg` (imported once per key and algorithm by the bundle).
 * @throws AuthenticationError `invalid_signature` when the key cannot verify `alg`
 */
export async function verificationKey(key: BundleKey, alg: string, what: string): Promise<VerificationKey> {
  if (key.alg !== undefined && key.alg !== alg) {
    throw new AuthenticationError('invalid_signature', `${what} algorithm does not match its signing key`);
  }
  try {
    return await key.cryptoKey(alg);
  } catch (cause) {
    throw new AuthenticationError('invalid_signature', `${what} algorithm does not match its signing key`, {
      cause,
    });
  }
}
