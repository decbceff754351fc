import type { WorkloadPrincipal } from '../authenticator/principal.js';
import { AccessDeniedError } from '../errors/errors.js';
import { TrustDomain } from '../identifiers/spiffe-id.js';
import { WorkloadIdentifier } from '../identifiers/workload-identifier.js';

/**
 * Decides whether an authenticated workload may proceed. `true` allows, `false` denies
 * (403 `access_denied`). Authorizers compose with {@link anyOf} and {@link allOf}.
 */
export type Authorizer = (principal: WorkloadPrincipal) => boolean | Promise<boolean>;

/** Allows every authenticated workload. */
export function allowAny(): Authorizer {
  return () => true;
}

/**
 * Allows exactly the listed workload identifiers (exact, byte-wise comparison).
 * Identifiers are validated now, so a typo fails at startup rather than denying forever.
 */
export function allowIds(...ids: ReadonlyArray<string | { toString(): string }>): Authorizer {
  if (ids.length === 0) throw new TypeError('allowIds needs at least one identifier');
  const allowed = new Set(ids.map((id) => WorkloadIdentifier.parse(String(id)).toString()));
  return (principal) => allowed.has(principal.id);
}

/** Allows workloads of the listed trust domains (names or `spiffe://` IDs). */
export function allowTrustDomains(...trustDomains: ReadonlyArray<string | TrustDomain>): Authorizer {
  if (trustDomains.length === 0) throw new TypeError('allowTrustDomains needs at least one trust domain');
  const allowed = new Set(
    trustDomains.map((td) => (typeof td === 'string' ? TrustDomain.parse(td).name : td.name)),
  );
  return (principal) => allowed.has(principal.trustDomain);
}

/**
 * Allows identifiers matching a pattern with whole-segment wildcards: `*` matches exactly
 * one path segment, a final `**` matches one or more segments. The scheme and trust domain
 * are literal (no wildcard can cross trust domains), and partial-segment wildcards such as
 * `sa-*` are rejected, so a pattern never matches more than it visibly says.
 *
 * `allowPathPattern('spiffe://example.org/ns/*\/sa/*')` matches `spiffe://example.org/ns/prod/sa/billing`.
 */
export function allowPathPattern(pattern: string): Authorizer {
  const schemeEnd = pattern.indexOf('://');
  const pathStart = schemeEnd < 0 ? -1 : pattern.indexOf('/', schemeEnd + 3);
  if (pathStart < 0) throw new TypeError('path pattern must be <scheme>://<trust domain>/<segments>');
  const prefix = pattern.slice(0, pathStart);
  if (prefix.includes('*')) throw new TypeError('the scheme and trust domain of a pattern must be literal');
  const segments = pattern.slice(pathStart + 1).split('/');
  segments.forEach((segment, index) => {
    if (segment.length === 0) throw new TypeError('path pattern has an empty segment');
    if (segment === '**' && index !== segments.length - 1) throw new TypeError('"**" may only end a pattern');
    if (segment !== '*' && segment !== '**' && segment.includes('*')) {
      throw new TypeError('wildcards must be whole segments ("*" or a final "**")');
    }
  });
  // Validate the literal parts as an identifier, with wildcards standing in as segments.
  WorkloadIdentifier.parse(`${prefix}/${segments.map((s) => (s.includes('*') ? 'x' : s)).join('/')}`);
  const trailingGlob = segments[segments.length - 1] === '**';
  const fixed = trailingGlob ? segments.slice(0, -1) : segments;
  return (principal) => {
    const id = principal.id;
    if (!id.startsWith(prefix) || id.charCodeAt(prefix.length) !== 0x2f) return false;
    const actual = id.slice(prefix.length + 1).split('/');
    if (trailingGlob ? actual.length <= fixed.length : actual.length !== fixed.length) return false;
    for (let i = 0; i < fixed.length; i++) {
      if (fixed[i] !== '*' && fixed[i] !== actual[i]) return false;
    }
    return true;
  };
}

/** Allows when `predicate` returns true. */
export function allowIf(predicate: (principal: WorkloadPrincipal) => boolean | Promise<boolean>): Authorizer {
  return async (principal) => (await predicate(principal)) === true;
}

/** Allows only callers that proved possession of their key (WIT + WPT), not bearer JWT-SVIDs. */
export function requireProofOfPossession(): Authorizer {
  return (principal) => principal.credential === 'wpt';
}

/** Allows when any authorizer allows (evaluated in order, stopping at the first). */
export function anyOf(...authorizers: readonly Authorizer[]): Authorizer {
  if (authorizers.length === 0) throw new TypeError('anyOf needs at least one authorizer');
  return async (principal) => {
    for (const authorizer of authorizers) if ((await authorizer(principal)) === true) return true;
    return false;
  };
}

/** Allows when every authorizer allows (evaluated in order, stopping at the first denial). */
export function allOf(...authorizers: readonly Authorizer[]): Authorizer {
  if (authorizers.length === 0) throw new TypeError('allOf needs at least one authorizer');
  return async (principal) => {
    for (const authorizer of authorizers) if ((await authorizer(principal)) !== true) return false;
    return true;
  };
}

/**
 * What adapters accept where a policy is expected: an {@link Authorizer}; a workload
 * identifier; a path pattern (contains `*`, see {@link allowPathPattern}); or a list of
 * identifiers and patterns, any of which may match.
 */
export type AuthorizerSpec = Authorizer | string | readonly string[];

/** Turns an {@link AuthorizerSpec} into an {@link Authorizer}, validating it now. */
export function toAuthorizer(spec: AuthorizerSpec): Authorizer {
  if (typeof spec === 'function') return spec;
  const entries = typeof spec === 'string' ? [spec] : spec;
  if (!Array.isArray(entries) || entries.length === 0) {
    throw new TypeError(
      'a policy must be an authorizer, an identifier, a pattern, or a non-empty list of them',
    );
  }
  const ids = entries.filter((entry) => !entry.includes('*'));
  const patterns = entries.filter((entry) => entry.includes('*')).map(allowPathPattern);
  const authorizers = ids.length > 0 ? [allowIds(...ids), ...patterns] : patterns;
  return authorizers.length === 1 ? authorizers[0]! : anyOf(...authorizers);
}

/**
 * Runs `authorizer` for `principal`; resolves when allowed.
 * @throws AccessDeniedError (403 `access_denied`) when denied or when the authorizer throws
 */
export async function authorize(principal: WorkloadPrincipal, authorizer: Authorizer): Promise<void> {
  let allowed: boolean;
  try {
    allowed = (await authorizer(principal)) === true;
  } catch (cause) {
    throw new AccessDeniedError('the authorization policy failed', { cause });
  }
  if (!allowed) throw new AccessDeniedError('this workload is not allowed here');
}
