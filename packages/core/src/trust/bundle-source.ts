import type { TrustDomain } from '../identifiers/spiffe-id.js';
import type { JwtBundle } from './jwt-bundle.js';

/**
 * Where the verifier gets trust material. Implementations: static, files, federation
 * bundle endpoints, OIDC discovery, the Workload API (`@wimse-auth/workload-api`).
 */
export interface BundleSource {
  /**
   * The bundle for a trust domain, or `undefined` when the trust domain is not trusted.
   *
   * Throws (synchronously or by rejecting) `TrustUnavailableError` when trust material
   * cannot be obtained right now; never reports a missing bundle as "untrusted".
   * Called on every request, so it must be cheap when nothing changed and must return
   * the same {@link JwtBundle} object until the bundle changes.
   */
  getBundle(trustDomain: TrustDomain): Promise<JwtBundle | undefined> | JwtBundle | undefined;

  /**
   * Optional. Called by the verifier when a token names a `kid` that the trust domain's
   * current bundle lacks, before it rejects the token with `unknown_key`: a source that
   * polls a remote endpoint may re-fetch early, since a new signing key is usually
   * published shortly before it is used. Resolves to the bundle to retry the lookup with
   * (the verifier retries once). Must be cheap to call repeatedly: tokens with made-up
   * `kid`s are free to forge, so implementations rate-limit the re-fetch themselves.
   * Same errors as {@link BundleSource.getBundle}.
   */
  refreshOnUnknownKey?(
    trustDomain: TrustDomain,
    kid: string,
  ): Promise<JwtBundle | undefined> | JwtBundle | undefined;
}

/** True when `value` looks like a {@link BundleSource} (has a `getBundle` method). */
export function isBundleSource(value: unknown): value is BundleSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { getBundle?: unknown }).getBundle === 'function'
  );
}
