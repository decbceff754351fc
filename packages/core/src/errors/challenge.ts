import type { CredentialKind, WimseError, WimseErrorCode } from './errors.js';

const TITLES: Record<WimseErrorCode, string> = {
  credentials_missing: 'Workload credentials required',
  credentials_malformed: 'Malformed workload credentials',
  unsupported_algorithm: 'Unsupported token algorithm',
  invalid_type: 'Wrong token type',
  invalid_signature: 'Invalid token signature',
  unknown_key: 'Unknown signing key',
  untrusted_trust_domain: 'Untrusted trust domain',
  invalid_subject: 'Invalid workload identifier',
  invalid_claims: 'Invalid token claims',
  token_expired: 'Token expired',
  token_not_yet_valid: 'Token not yet valid',
  issued_in_future: 'Token issued in the future',
  issuer_mismatch: 'Issuer not allowed',
  audience_mismatch: 'Audience mismatch',
  wit_binding_mismatch: 'Proof not bound to this WIT',
  token_binding_mismatch: 'Proof not bound to the tokens sent',
  proof_lifetime_too_long: 'Proof lifetime too long',
  replay_detected: 'Proof replayed',
  access_denied: 'Access denied',
  trust_unavailable: 'Trust material unavailable',
};

/** An RFC 9457 problem details object describing a {@link WimseError}. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  /** The stable error code (an RFC 9457 extension member). */
  readonly code: WimseErrorCode;
}

/** A ready-to-send HTTP error response for adapters. */
export interface ErrorResponse {
  readonly status: number;
  /** Header values, lower-case names; `www-authenticate` holds one challenge per scheme. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: ProblemDetails;
}

/** Options for rendering challenges. */
export interface ChallengeOptions {
  /** Credential forms the service accepts; decides which schemes are challenged. Default: all. */
  accept?: readonly CredentialKind[];
  /** `realm` auth-param, if the service wants one. */
  realm?: string;
}

const ALL_KINDS: readonly CredentialKind[] = ['wpt-authorization', 'wpt-header', 'jwt-svid'];

function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

function challenge(scheme: string, params: ReadonlyArray<readonly [string, string]>): string {
  return params.length === 0 ? scheme : `${scheme} ${params.map(([k, v]) => `${k}=${quoted(v)}`).join(', ')}`;
}

/** RFC 6750 §3.1 error codes for Bearer challenges. */
function bearerError(code: WimseErrorCode): string {
  return code === 'credentials_malformed' ? 'invalid_request' : 'invalid_token';
}

/**
 * `WWW-Authenticate` challenges for a 401 (none for 403/503): one per accepted scheme
 * (`WPT`, `Bearer`). The scheme the request tried carries `error`; the others are bare,
 * telling the client what else it may use. `credentials_missing` carries no error (RFC 6750 §3.1).
 */
export function wwwAuthenticate(error: WimseError | undefined, options: ChallengeOptions = {}): string[] {
  if (error !== undefined && error.status !== 401) return [];
  const accept = options.accept ?? ALL_KINDS;
  const realm: Array<readonly [string, string]> =
    options.realm === undefined ? [] : [['realm', options.realm]];
  const code = error?.code;
  const reportable = code !== undefined && code !== 'credentials_missing';
  const tried = error?.credential;
  const challenges: string[] = [];
  if (accept.includes('wpt-authorization') || accept.includes('wpt-header')) {
    const wptTried = tried === undefined || tried === 'wpt-authorization' || tried === 'wpt-header';
    challenges.push(challenge('WPT', reportable && wptTried ? [...realm, ['error', code]] : realm));
  }
  if (accept.includes('jwt-svid')) {
    const bearerTried = tried === undefined || tried === 'jwt-svid';
    challenges.push(
      challenge(
        'Bearer',
        reportable && bearerTried
          ? [...realm, ['error', bearerError(code)], ['error_description', code]]
          : realm,
      ),
    );
  }
  return challenges;
}

/** The RFC 9457 problem body for `error`. Contains only the safe message and code. */
export function problemDetails(error: WimseError): ProblemDetails {
  return {
    type: `urn:wimse-auth:error:${error.code}`,
    title: TITLES[error.code],
    status: error.status,
    detail: error.message,
    code: error.code,
  };
}

/** Status, headers and problem body for `error`, for adapters that answer failures themselves. */
export function errorResponse(error: WimseError, options: ChallengeOptions = {}): ErrorResponse {
  const headers: Record<string, string | readonly string[]> = {
    'content-type': 'application/problem+json',
    'cache-control': 'no-store',
  };
  const challenges = wwwAuthenticate(error, options);
  if (challenges.length > 0) headers['www-authenticate'] = challenges;
  return { status: error.status, headers, body: problemDetails(error) };
}
