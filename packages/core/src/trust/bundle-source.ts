import type { TrustDomain } from '../identifiers/spiffe-id.js';
import type { JwtBundle } from './jwt-bundle.js';

/**
 * Where the verifier gets trust material. Implementations: static, files; later the
 * Workload API, federation, OIDC.
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
}

/** True when `value` looks like a {@link BundleSource} (has a `getBundle` method). */
export function isBundleSource(value: unknown): value is BundleSource {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { getBundle?: unknown }).getBundle === 'function'
  );
}
