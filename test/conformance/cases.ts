// The conformance table: every adapter set-up must answer each case identically.
import { generateTestKey, signToken } from '../support/tokens.js';
import { CALLER_ID, sha256, type TestTrustDomain } from '../support/trust-domain.js';

/** The origin every conformance server is configured with (callers address it; Host is never used). */
export const ORIGIN = 'https://orders.example.org';
export const ADMIN_ID = 'spiffe://example.org/ns/prod/sa/admin';
/** A trust domain whose bundle source fails, to provoke 503. */
export const BROKEN_TRUST_DOMAIN = 'broken.example';

export type Route = '/orders' | '/optional' | '/admin';

/** What the handler saw, as the conformance servers echo it. */
export interface SeenPrincipal {
  id: string;
  trustDomain: string;
  credential: 'wpt' | 'jwt-svid';
  credentialForm: string;
}

export interface Expectation {
  status: 200 | 401 | 403 | 503;
  /** The stable error code (401/403/503). */
  code?: string;
  /** For 401: which scheme's challenge carries the error (`WPT`, `Bearer`), or none. */
  challengeError?: 'WPT' | 'Bearer' | 'none';
  /** For 200: the principal the handler must have seen (`null`: none). */
  principal?: SeenPrincipal | null;
}

export interface ConformanceCase {
  id: string;
  description: string;
  route: Route;
  /** Request headers (lower-case names; an array sends the field several times). */
  headers(td: TestTrustDomain): Record<string, string | string[]>;
  /** Send the same request this many times; the expectation applies to the last (default 1). */
  repeat?: number;
  /**
   * A request sent first, on the same keep-alive connection, that must succeed; called after
   * `headers`. The expectation applies to the request of `headers` that follows it.
   */
  precededBy?: () => Record<string, string | string[]>;
  expect: Expectation;
}

const caller = (credential: 'wpt' | 'jwt-svid', credentialForm: string): SeenPrincipal => ({
  id: CALLER_ID,
  trustDomain: 'example.org',
  credential,
  credentialForm,
});
const aud = (route: Route) => `${ORIGIN}${route}`;
/** `token` with the character at `index` replaced (by default with another base64url character). */
const withCharacterAt = (token: string, index: number, replacement?: string) =>
  `${token.slice(0, index)}${replacement ?? (token[index] === 'A' ? 'B' : 'A')}${token.slice(index + 1)}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const wptAuthorization = (wit: string, wpt: string) => ({
  'workload-identity-token': wit,
  authorization: `WPT ${wpt}`,
});
const wptHeader = (wit: string, wpt: string) => ({
  'workload-identity-token': wit,
  'workload-proof-token': wpt,
});
/** A JWT-SVID verified on the connection first, then sent again as `alter` changes it. */
function alteredAfterVerified(
  id: string,
  change: string,
  alter: (token: string) => string,
  expectation: Expectation,
): ConformanceCase {
  let verified = '';
  return {
    id,
    description: `after a verified JWT-SVID, the same token with ${change}`,
    route: '/orders',
    headers: (td) => {
      verified = td.domain.issueJwtSvid({ sub: CALLER_ID, aud: ORIGIN });
      return bearer(alter(verified));
    },
    precededBy: () => bearer(verified),
    expect: expectation,
  };
}
const wptError = (status: 401, code: string): Expectation => ({ status, code, challengeError: 'WPT' });
const bearerError = (code: string): Expectation => ({ status: 401, code, challengeError: 'Bearer' });

export const CASES: readonly ConformanceCase[] = [
  {
    id: 'wpt-authorization-valid',
    description: 'WIT + Authorization: WPT (newest draft) authenticates',
    route: '/orders',
    headers: (td) => td.proofHeaders(aud('/orders')),
    expect: { status: 200, principal: caller('wpt', 'wpt-authorization') },
  },
  {
    id: 'wpt-header-valid',
    description: 'WIT + Workload-Proof-Token (wpt-02 peers) authenticates',
    route: '/orders',
    headers: (td) => {
      const wit = td.issueWit();
      return wptHeader(wit, td.issueWpt(wit, aud('/orders')));
    },
    expect: { status: 200, principal: caller('wpt', 'wpt-header') },
  },
  {
    id: 'wpt-header-with-bound-access-token',
    description: 'an access token bound by ath rides along without becoming the identity',
    route: '/orders',
    headers: (td) => {
      const wit = td.issueWit();
      const token = 'opaque-access-token';
      return {
        ...wptHeader(wit, td.issueWpt(wit, aud('/orders'), { ath: sha256(token) })),
        ...bearer(token),
      };
    },
    expect: { status: 200, principal: caller('wpt', 'wpt-header') },
  },
  {
    id: 'jwt-svid-valid',
    description: 'a JWT-SVID bearer token authenticates',
    route: '/orders',
    headers: (td) => bearer(td.issueJwtSvid(ORIGIN)),
    expect: { status: 200, principal: caller('jwt-svid', 'jwt-svid') },
  },
  {
    id: 'credentials-missing',
    description: 'no credential: 401 with bare WPT and Bearer challenges',
    route: '/orders',
    headers: () => ({}),
    expect: { status: 401, code: 'credentials_missing', challengeError: 'none' },
  },
  {
    id: 'credentials-malformed-wit-without-proof',
    description: 'a WIT without a proof is never downgraded',
    route: '/orders',
    headers: (td) => ({ 'workload-identity-token': td.issueWit() }),
    expect: wptError(401, 'credentials_malformed'),
  },
  {
    id: 'credentials-malformed-duplicate-authorization',
    description: 'two Authorization fields are rejected, not half-read',
    route: '/orders',
    headers: (td) => {
      const wit = td.issueWit();
      return {
        'workload-identity-token': wit,
        authorization: [`WPT ${td.issueWpt(wit, aud('/orders'))}`, `Bearer ${td.issueJwtSvid(ORIGIN)}`],
      };
    },
    expect: wptError(401, 'credentials_malformed'),
  },
  {
    id: 'unsupported-algorithm',
    description: 'an HS256 JWT-SVID keyed with public material',
    route: '/orders',
    headers: (td) => bearer(td.domain.issueJwtSvid({ sub: CALLER_ID, aud: ORIGIN, bad: 'alg-hs256' })),
    expect: bearerError('unsupported_algorithm'),
  },
  {
    id: 'invalid-type',
    description: 'a WIT presented as a bearer token',
    route: '/orders',
    headers: (td) => bearer(td.issueWit()),
    expect: bearerError('invalid_type'),
  },
  {
    id: 'invalid-signature',
    description: 'a proof signed by a key other than the WIT’s cnf key',
    route: '/orders',
    headers: (td) => {
      const wit = td.issueWit();
      const stranger = generateTestKey('ES256');
      const wpt = signToken(
        { alg: 'ES256', typ: 'wpt+jwt' },
        {
          aud: aud('/orders'),
          exp: Math.floor(Date.now() / 1000) + 60,
          jti: 'x'.repeat(22),
          wth: sha256(wit),
        },
        stranger.privateKey,
      );
      return wptAuthorization(wit, wpt);
    },
    expect: wptError(401, 'invalid_signature'),
  },
  {
    id: 'unknown-key',
    description: 'a JWT-SVID naming a kid its trust domain does not have',
    route: '/orders',
    headers: (td) => bearer(td.domain.issueJwtSvid({ sub: CALLER_ID, aud: ORIGIN, bad: 'unknown-kid' })),
    expect: bearerError('unknown_key'),
  },
  // The connection's last verified token is remembered: a token of the same length differing
  // in one signature character, or in a space, must not be taken for it.
  alteredAfterVerified(
    'jwt-svid-tampered-after-verified-on-connection',
    'one signature character changed',
    (token) => withCharacterAt(token, token.length - 10),
    bearerError('invalid_signature'),
  ),
  alteredAfterVerified(
    'jwt-svid-space-after-verified-on-connection',
    'a character replaced by a space',
    (token) => withCharacterAt(token, token.length - 10, ' '),
    bearerError('credentials_malformed'),
  ),
  {
    id: 'untrusted-trust-domain',
    description: 'a caller from a trust domain with no bundle',
    route: '/orders',
    headers: (td) => bearer(td.issueJwtSvid(ORIGIN, { sub: 'spiffe://evil.example/ns/prod/sa/billing' })),
    expect: bearerError('untrusted_trust_domain'),
  },
  {
    id: 'invalid-subject',
    description: 'a JWT-SVID whose sub is not a SPIFFE ID',
    route: '/orders',
    headers: (td) => bearer(td.issueJwtSvid(ORIGIN, { sub: 'spiffe://Example.org/x' })),
    expect: bearerError('invalid_subject'),
  },
  {
    id: 'invalid-claims',
    description: 'a proof without jti',
    route: '/orders',
    headers: (td) => {
      const wit = td.issueWit();
      return wptAuthorization(wit, td.issueWpt(wit, aud('/orders'), { jti: undefined }));
    },
    expect: wptError(401, 'invalid_claims'),
  },
  {
    id: 'token-expired',
    description: 'an expired JWT-SVID',
    route: '/orders',
    headers: (td) => bearer(td.issueJwtSvid(ORIGIN, { exp: Math.floor(Date.now() / 1000) - 600 })),
    expect: bearerError('token_expired'),
  },
  {
    id: 'token-not-yet-valid',
    description: 'a JWT-SVID whose nbf is in the future',
    route: '/orders',
    headers: (td) => bearer(td.issueJwtSvid(ORIGIN, { nbf: Math.floor(Date.now() / 1000) + 600 })),
    expect: bearerError('token_not_yet_valid'),
  },
  {
    id: 'issued-in-future',
    description: 'a WIT issued in the future',
    route: '/orders',
    headers: (td) =>
      td.proofHeaders(aud('/orders'), td.issueWit({ iat: Math.floor(Date.now() / 1000) + 600 })),
    expect: wptError(401, 'issued_in_future'),
  },
  {
    id: 'issuer-mismatch',
    description: 'a WIT whose iss is outside the configured issuers',
    route: '/orders',
    headers: (td) => td.proofHeaders(aud('/orders'), td.issueWit({ iss: 'https://evil.example' })),
    expect: wptError(401, 'issuer_mismatch'),
  },
  {
    id: 'audience-mismatch',
    description: 'a proof minted for another path',
    route: '/orders',
    headers: (td) => td.proofHeaders(aud('/admin')),
    expect: wptError(401, 'audience_mismatch'),
  },
  {
    id: 'audience-not-from-host',
    description: 'a proof addressed to the Host the server happens to see is not accepted',
    route: '/orders',
    headers: (td) => ({ ...td.proofHeaders('http://127.0.0.1/orders'), 'x-forwarded-host': '127.0.0.1' }),
    expect: wptError(401, 'audience_mismatch'),
  },
  {
    id: 'wit-binding-mismatch',
    description: 'a proof bound to another WIT',
    route: '/orders',
    headers: (td) => wptAuthorization(td.issueWit(), td.issueWpt(td.issueWit(), aud('/orders'))),
    expect: wptError(401, 'wit_binding_mismatch'),
  },
  {
    id: 'token-binding-mismatch',
    description: 'an access token the proof does not bind',
    route: '/orders',
    headers: (td) => {
      const wit = td.issueWit();
      return { ...wptHeader(wit, td.issueWpt(wit, aud('/orders'))), ...bearer('unbound-access-token') };
    },
    expect: wptError(401, 'token_binding_mismatch'),
  },
  {
    id: 'proof-lifetime-too-long',
    description: 'a proof valid for an hour',
    route: '/orders',
    headers: (td) => {
      const wit = td.issueWit();
      return wptAuthorization(
        wit,
        td.issueWpt(wit, aud('/orders'), { exp: Math.floor(Date.now() / 1000) + 3600 }),
      );
    },
    expect: wptError(401, 'proof_lifetime_too_long'),
  },
  {
    id: 'replay-detected',
    description: 'the same proof sent twice',
    route: '/orders',
    headers: (td) => td.proofHeaders(aud('/orders')),
    repeat: 2,
    expect: wptError(401, 'replay_detected'),
  },
  {
    id: 'trust-unavailable',
    description: 'the bundle source fails: 503, the request is not judged',
    route: '/orders',
    headers: (td) =>
      td.proofHeaders(aud('/orders'), td.issueWit({ sub: `spiffe://${BROKEN_TRUST_DOMAIN}/w` })),
    expect: { status: 503, code: 'trust_unavailable' },
  },
  {
    id: 'optional-without-credentials',
    description: 'optional authentication lets a request without credentials through',
    route: '/optional',
    headers: () => ({}),
    expect: { status: 200, principal: null },
  },
  {
    id: 'optional-with-valid-credentials',
    description: 'optional authentication still authenticates a present credential',
    route: '/optional',
    headers: (td) => td.proofHeaders(aud('/optional')),
    expect: { status: 200, principal: caller('wpt', 'wpt-authorization') },
  },
  {
    id: 'optional-with-invalid-credentials',
    description: 'optional authentication still rejects a present, invalid credential',
    route: '/optional',
    headers: (td) => bearer(td.issueJwtSvid(ORIGIN, { exp: Math.floor(Date.now() / 1000) - 600 })),
    expect: bearerError('token_expired'),
  },
  {
    id: 'authorization-allowed',
    description: 'requireWorkload lets the allowed workload in',
    route: '/admin',
    headers: (td) => td.proofHeaders(aud('/admin'), td.issueWit({ sub: ADMIN_ID })),
    expect: {
      status: 200,
      principal: {
        id: ADMIN_ID,
        trustDomain: 'example.org',
        credential: 'wpt',
        credentialForm: 'wpt-authorization',
      },
    },
  },
  {
    id: 'authorization-denied',
    description: 'requireWorkload refuses another authenticated workload with 403',
    route: '/admin',
    headers: (td) => td.proofHeaders(aud('/admin')),
    expect: { status: 403, code: 'access_denied' },
  },
];
