import { AuthenticationError, type CredentialKind, credentialsMissingError } from '../errors/errors.js';
import { headerValues, type RequestHeaders } from './http-request.js';

/** Header names used by the accepted credential forms (lower-case, as Node presents them). */
export const WIT_HEADER = 'workload-identity-token';
export const WPT_HEADER = 'workload-proof-token';
export const AUTHORIZATION_HEADER = 'authorization';
export const TXN_TOKEN_HEADER = 'txn-token';

/** What a request presented, before any cryptographic check. */
export type PresentedCredentials =
  | {
      readonly kind: 'wpt-authorization' | 'wpt-header';
      readonly wit: string;
      readonly wpt: string;
      /** An OAuth access token sent alongside (only with `wpt-header`), bound by `ath`. */
      readonly accessToken: string | undefined;
    }
  | { readonly kind: 'jwt-svid'; readonly token: string };

interface AuthorizationCredentials {
  readonly scheme: string;
  readonly token: string;
}

function malformed(detail: string, credential?: CredentialKind): AuthenticationError {
  return new AuthenticationError(
    'credentials_malformed',
    `malformed credentials: ${detail}`,
    credential === undefined ? {} : { credential },
  );
}

/**
 * `auth-scheme 1*SP token68` (RFC 9110 §11.4), scheme lower-cased; the token is not yet
 * checked for whitespace (see {@link checkAuthorizationToken}).
 */
function parseAuthorization(value: string): AuthorizationCredentials {
  const space = value.indexOf(' ');
  if (space <= 0) throw malformed('Authorization header has no credentials');
  let start = space;
  while (value.charCodeAt(start) === 0x20) start++;
  const token = value.slice(start);
  if (token.length === 0) throw malformed('Authorization header must be "<scheme> <token>"');
  return { scheme: value.slice(0, space).toLowerCase(), token };
}

/**
 * The rest of `<scheme> <token>`: the token holds no whitespace.
 * @throws AuthenticationError `credentials_malformed`
 */
export function checkAuthorizationToken(token: string): void {
  if (/\s/.test(token)) throw malformed('Authorization header must be "<scheme> <token>"');
}

function singleValue(headers: RequestHeaders, name: string, label: string): string | undefined {
  const values = headerValues(headers, name);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw malformed(`more than one ${label} header`);
  return values[0];
}

/**
 * Finds the workload credential in a request, enforcing profile decision 1: a request
 * carrying two proofs, two WITs, a proof without a WIT, or a WIT without a proof is
 * rejected, never downgraded to a weaker credential. A bearer token next to a WIT is an
 * access token bound by the proof, never the caller's identity.
 * @throws AuthenticationError `credentials_missing` or `credentials_malformed`
 */
export function extractCredentials(
  headers: RequestHeaders,
  accept: ReadonlySet<CredentialKind>,
): PresentedCredentials {
  return presentedCredentials(headers, accept, true);
}

/**
 * {@link extractCredentials}, except that a JWT-SVID is returned before its token's whitespace
 * check: the caller runs {@link checkAuthorizationToken} on it before anything but comparing
 * it with tokens already verified. A repeated JWT-SVID is then recognised without scanning it.
 */
export function locateCredentials(
  headers: RequestHeaders,
  accept: ReadonlySet<CredentialKind>,
): PresentedCredentials {
  return presentedCredentials(headers, accept, false);
}

function presentedCredentials(
  headers: RequestHeaders,
  accept: ReadonlySet<CredentialKind>,
  checkBearerToken: boolean,
): PresentedCredentials {
  const wit = singleValue(headers, WIT_HEADER, 'Workload-Identity-Token');
  const authorizationValue = singleValue(headers, AUTHORIZATION_HEADER, 'Authorization');
  const proofHeaders = headerValues(headers, WPT_HEADER);
  const authorization = authorizationValue === undefined ? undefined : parseAuthorization(authorizationValue);
  if (authorization !== undefined) {
    const jwtSvid =
      wit === undefined &&
      proofHeaders.length === 0 &&
      authorization.scheme === 'bearer' &&
      accept.has('jwt-svid');
    if (checkBearerToken || !jwtSvid) checkAuthorizationToken(authorization.token);
  }
  const proofInAuthorization = authorization?.scheme === 'wpt';
  const proofCount = proofHeaders.length + (proofInAuthorization ? 1 : 0);

  if (wit === undefined) {
    if (proofCount > 0) throw malformed('a Workload Proof Token was sent without a Workload-Identity-Token');
    if (authorization?.scheme === 'bearer' && accept.has('jwt-svid')) {
      return { kind: 'jwt-svid', token: authorization.token };
    }
    throw credentialsMissingError();
  }
  if (proofCount === 0) throw malformed('a Workload-Identity-Token was sent without a Workload Proof Token');
  if (proofCount > 1) throw malformed('more than one Workload Proof Token was sent');

  if (proofInAuthorization) {
    if (!accept.has('wpt-authorization')) {
      throw malformed('proofs in the Authorization header are not accepted here', 'wpt-authorization');
    }
    return { kind: 'wpt-authorization', wit, wpt: authorization.token, accessToken: undefined };
  }
  if (!accept.has('wpt-header')) {
    throw malformed('proofs in the Workload-Proof-Token header are not accepted here', 'wpt-header');
  }
  const scheme = authorization?.scheme;
  const accessToken = scheme === 'bearer' || scheme === 'dpop' ? authorization?.token : undefined;
  return { kind: 'wpt-header', wit, wpt: proofHeaders[0]!, accessToken };
}

/** The `Txn-Token` header value, if exactly one was sent. */
export function txnToken(headers: RequestHeaders): string | undefined {
  return singleValue(headers, TXN_TOKEN_HEADER, 'Txn-Token');
}

/** The configured other-token headers present in the request, by lower-case name. */
export function otherTokens(
  headers: RequestHeaders,
  names: readonly string[],
): Record<string, string> | undefined {
  let found: Record<string, string> | undefined;
  for (const name of names) {
    const value = singleValue(headers, name, name);
    if (value === undefined) continue;
    found ??= Object.create(null) as Record<string, string>;
    found[name] = value;
  }
  return found;
}
