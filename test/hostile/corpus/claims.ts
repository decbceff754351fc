// Claim-level attacks on correctly signed tokens: types, time, audience, confirmation keys,
// and the proof's bindings (wth, ath, tth, oth).
import { generateKeyPairSync } from 'node:crypto';
import { b64url, generateTestKey } from '../../support/tokens.js';
import { sha256 } from '../../support/trust-domain.js';
import { type Exchange, type HostileCase, rejected, single } from '../case.js';
import { CONTEXT_TOKEN_HEADER, type Kit, ORIGIN } from '../kit.js';
import { minter, type PositionName } from './positions.js';

const INVALID = 'invalid_claims';

interface ClaimAttack {
  readonly id: string;
  readonly description: string;
  /** The claims to merge into the position's defaults (`undefined` removes one). */
  claims(kit: Kit): Record<string, unknown>;
  readonly expect: Partial<Record<PositionName, string>>;
}

const now = (kit: Kit) => kit.now();

const TOKEN_CLAIM_ATTACKS: ClaimAttack[] = [
  {
    id: 'sub-missing',
    description: 'no sub',
    claims: () => ({ sub: undefined }),
    expect: { svid: INVALID, wit: INVALID },
  },
  {
    id: 'sub-number',
    description: 'sub is a number',
    claims: () => ({ sub: 42 }),
    expect: { svid: INVALID, wit: INVALID },
  },
  {
    id: 'sub-array',
    description: 'sub is an array of the caller’s ID',
    claims: () => ({ sub: ['spiffe://example.org/ns/prod/sa/billing'] }),
    expect: { svid: INVALID, wit: INVALID },
  },
  {
    id: 'sub-empty',
    description: 'sub is ""',
    claims: () => ({ sub: '' }),
    expect: { svid: 'invalid_subject', wit: 'invalid_subject' },
  },
  {
    id: 'exp-missing',
    description: 'no exp',
    claims: () => ({ exp: undefined }),
    expect: { svid: INVALID, wit: INVALID, wpt: INVALID },
  },
  {
    id: 'exp-string',
    description: 'exp is a numeric string',
    claims: (kit) => ({ exp: String(now(kit) + 60) }),
    expect: { svid: INVALID, wit: INVALID, wpt: INVALID },
  },
  {
    id: 'exp-null',
    description: 'exp is null',
    claims: () => ({ exp: null }),
    expect: { svid: INVALID, wit: INVALID, wpt: INVALID },
  },
  {
    id: 'exp-boolean',
    description: 'exp is true',
    claims: () => ({ exp: true }),
    expect: { svid: INVALID, wit: INVALID, wpt: INVALID },
  },
  {
    id: 'exp-array',
    description: 'exp is an array',
    claims: (kit) => ({ exp: [now(kit) + 60] }),
    expect: { svid: INVALID, wit: INVALID, wpt: INVALID },
  },
  {
    id: 'exp-negative',
    description: 'exp is negative',
    claims: () => ({ exp: -1 }),
    expect: { svid: 'token_expired', wit: 'token_expired', wpt: 'token_expired' },
  },
  {
    id: 'exp-zero',
    description: 'exp is 0 (the epoch)',
    claims: () => ({ exp: 0 }),
    expect: { svid: 'token_expired', wit: 'token_expired', wpt: 'token_expired' },
  },
  {
    id: 'exp-float-past',
    description: 'exp is a fraction of a second in the past of the tolerance',
    claims: (kit) => ({ exp: now(kit) - 120.5 }),
    expect: { svid: 'token_expired', wit: 'token_expired', wpt: 'token_expired' },
  },
  {
    id: 'exp-huge',
    description: 'exp is 1e300',
    claims: () => ({ exp: 1e300 }),
    expect: { wpt: 'proof_lifetime_too_long' },
  },
  {
    id: 'exp-max-safe-integer',
    description: 'exp is 2^53 - 1',
    claims: () => ({ exp: Number.MAX_SAFE_INTEGER }),
    expect: { wpt: 'proof_lifetime_too_long' },
  },
  {
    id: 'nbf-future',
    description: 'nbf an hour ahead',
    claims: (kit) => ({ nbf: now(kit) + 3600 }),
    expect: { svid: 'token_not_yet_valid', wit: 'token_not_yet_valid', wpt: 'token_not_yet_valid' },
  },
  {
    id: 'nbf-string',
    description: 'nbf is a string',
    claims: (kit) => ({ nbf: String(now(kit)) }),
    expect: { svid: INVALID, wit: INVALID, wpt: INVALID },
  },
  {
    id: 'iat-far-future',
    description: 'iat a year ahead',
    claims: (kit) => ({ iat: now(kit) + 365 * 86400 }),
    expect: { svid: 'issued_in_future', wit: 'issued_in_future', wpt: 'issued_in_future' },
  },
  {
    id: 'iat-string',
    description: 'iat is a string',
    claims: (kit) => ({ iat: String(now(kit)) }),
    expect: { svid: INVALID, wit: INVALID, wpt: INVALID },
  },
  {
    id: 'aud-object',
    description: 'aud is an object',
    claims: () => ({ aud: { origin: ORIGIN } }),
    expect: { svid: INVALID, wpt: INVALID },
  },
  {
    id: 'aud-empty-array',
    description: 'aud is []',
    claims: () => ({ aud: [] }),
    expect: { svid: INVALID, wpt: INVALID },
  },
  {
    id: 'aud-array-of-number',
    description: 'aud is [1]',
    claims: () => ({ aud: [1] }),
    expect: { svid: INVALID, wpt: INVALID },
  },
  {
    id: 'aud-missing',
    description: 'no aud',
    claims: () => ({ aud: undefined }),
    expect: { svid: INVALID, wpt: INVALID },
  },
  {
    id: 'aud-other-origin',
    description: 'aud of another service',
    claims: () => ({ aud: 'https://payments.example.org/orders' }),
    expect: { svid: 'audience_mismatch', wpt: 'audience_mismatch' },
  },
  // Scheme and host compare case-insensitively and query/fragment are not part of a proof's
  // target (docs/audience.md); everything else about the target must match exactly.
  {
    id: 'aud-other-port',
    description: 'aud with a non-default port',
    claims: () => ({ aud: 'https://orders.example.org:8443/orders' }),
    expect: { svid: 'audience_mismatch', wpt: 'audience_mismatch' },
  },
  {
    id: 'aud-userinfo',
    description: 'aud with userinfo before the host',
    claims: () => ({ aud: 'https://orders.example.org@evil.example/orders' }),
    expect: { svid: 'audience_mismatch', wpt: 'audience_mismatch' },
  },
  {
    id: 'aud-percent-encoded-path',
    description: 'a proof for a percent-encoded spelling of the path',
    claims: () => ({ aud: `${ORIGIN}/%6Frders` }),
    expect: { wpt: 'audience_mismatch' },
  },
  {
    id: 'aud-dot-segment-path',
    description: 'a proof for a dot-segment spelling of the path',
    claims: () => ({ aud: `${ORIGIN}/x/../orders` }),
    expect: { wpt: 'audience_mismatch' },
  },
  {
    id: 'aud-trailing-slash-path',
    description: 'a proof for the path with a trailing slash',
    claims: () => ({ aud: `${ORIGIN}/orders/` }),
    expect: { wpt: 'audience_mismatch' },
  },
  {
    id: 'aud-http-scheme',
    description: 'aud with http instead of https',
    claims: () => ({ aud: 'http://orders.example.org/orders' }),
    expect: { svid: 'audience_mismatch', wpt: 'audience_mismatch' },
  },
  {
    id: 'aud-origin-only',
    description: 'a proof addressed to the origin without the path',
    claims: () => ({ aud: ORIGIN }),
    expect: { wpt: 'audience_mismatch' },
  },
  {
    id: 'iss-other',
    description: 'iss outside the configured issuers',
    claims: () => ({ iss: 'https://evil.example' }),
    expect: { svid: 'issuer_mismatch', wit: 'issuer_mismatch' },
  },
  {
    id: 'iss-missing',
    description: 'no iss although issuers are configured',
    claims: () => ({ iss: undefined }),
    expect: { svid: 'issuer_mismatch', wit: 'issuer_mismatch' },
  },
  {
    id: 'iss-number',
    description: 'iss is a number (never an allowed issuer)',
    claims: () => ({ iss: 1 }),
    expect: { svid: 'issuer_mismatch', wit: 'issuer_mismatch' },
  },
  {
    id: 'jti-missing',
    description: 'a proof without jti',
    claims: () => ({ jti: undefined }),
    expect: { wpt: INVALID },
  },
  { id: 'jti-empty', description: 'jti is ""', claims: () => ({ jti: '' }), expect: { wpt: INVALID } },
  {
    id: 'jti-number',
    description: 'jti is a number',
    claims: () => ({ jti: 1_234_567_890_123 }),
    expect: { wpt: INVALID },
  },
  {
    id: 'jti-10kb',
    description: 'a 10 KB jti',
    claims: () => ({ jti: 'j'.repeat(10 * 1024) }),
    expect: { wpt: INVALID },
  },
  {
    id: 'wth-missing',
    description: 'a proof without wth',
    claims: () => ({ wth: undefined }),
    expect: { wpt: INVALID },
  },
  { id: 'wth-number', description: 'wth is a number', claims: () => ({ wth: 1 }), expect: { wpt: INVALID } },
  {
    id: 'wth-other-wit',
    description: 'wth of another WIT',
    claims: (kit) => ({ wth: sha256(kit.wit()) }),
    expect: { wpt: 'wit_binding_mismatch' },
  },
  {
    id: 'wth-standard-base64',
    description: 'wth in padded standard base64',
    claims: () => ({ wth: Buffer.alloc(32, 9).toString('base64') }),
    expect: { wpt: 'wit_binding_mismatch' },
  },
  {
    id: 'ath-without-access-token',
    description: 'ath although no access token is sent',
    claims: () => ({ ath: sha256('token') }),
    expect: { wpt: 'token_binding_mismatch' },
  },
  {
    id: 'tth-without-txn-token',
    description: 'tth although no Txn-Token is sent',
    claims: () => ({ tth: sha256('txn') }),
    expect: { wpt: 'token_binding_mismatch' },
  },
  {
    id: 'oth-unknown-header-only',
    description: 'oth binds a header that is not configured or sent',
    claims: () => ({ oth: { 'x-unknown': sha256('x') } }),
    expect: { wpt: 'token_binding_mismatch' },
  },
  {
    id: 'oth-not-object',
    description: 'oth is a string',
    claims: () => ({ oth: sha256('x') }),
    expect: { wpt: INVALID },
  },
  {
    id: 'cnf-missing',
    description: 'a WIT without cnf',
    claims: () => ({ cnf: undefined }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-without-jwk',
    description: 'cnf without jwk',
    claims: () => ({ cnf: {} }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-string',
    description: 'cnf is a string',
    claims: () => ({ cnf: 'jwk' }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jkt-only',
    description: 'cnf with a thumbprint (jkt) instead of a key',
    claims: (kit) => ({ cnf: { jkt: sha256(JSON.stringify(kit.keys.workload.publicJwk)) } }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-array',
    description: 'cnf.jwk is an array',
    claims: (kit) => ({ cnf: { jwk: [kit.keys.workload.publicJwk] } }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-symmetric',
    description: 'cnf.jwk is a symmetric (oct) key',
    claims: () => ({ cnf: { jwk: { kty: 'oct', k: b64url('shared-secret-shared-secret!'), alg: 'HS256' } } }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-private',
    description: 'cnf.jwk carries the private member d',
    claims: (kit) => ({
      cnf: { jwk: { ...kit.keys.workload.privateKey.export({ format: 'jwk' }), alg: 'ES256' } },
    }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-alg-absent',
    description: 'cnf.jwk without alg',
    claims: (kit) => ({ cnf: { jwk: { ...kit.keys.workload.publicJwk } } }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-alg-none',
    description: 'cnf.jwk with alg "none"',
    claims: (kit) => ({ cnf: { jwk: { ...kit.keys.workload.publicJwk, alg: 'none' } } }),
    expect: { wit: 'unsupported_algorithm' },
  },
  {
    id: 'cnf-jwk-alg-hs256',
    description: 'cnf.jwk (an EC key) with alg HS256',
    claims: (kit) => ({ cnf: { jwk: { ...kit.keys.workload.publicJwk, alg: 'HS256' } } }),
    expect: { wit: 'unsupported_algorithm' },
  },
  {
    id: 'cnf-jwk-alg-mismatch',
    description: 'cnf.jwk (P-256) with alg ES384',
    claims: (kit) => ({ cnf: { jwk: { ...kit.keys.workload.publicJwk, alg: 'ES384' } } }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-alg-rsa-on-ec',
    description: 'cnf.jwk (EC) with alg RS256',
    claims: (kit) => ({ cnf: { jwk: { ...kit.keys.workload.publicJwk, alg: 'RS256' } } }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-kty-missing',
    description: 'cnf.jwk without kty',
    claims: (kit) => ({ cnf: { jwk: { ...kit.keys.workload.publicJwk, kty: undefined, alg: 'ES256' } } }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-curve-mismatch',
    description: 'cnf.jwk naming P-384 with P-256 coordinates',
    claims: (kit) => ({ cnf: { jwk: { ...kit.keys.workload.publicJwk, crv: 'P-384', alg: 'ES256' } } }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-off-curve',
    description: 'cnf.jwk whose point is not on the curve',
    claims: (kit) => ({
      cnf: { jwk: { ...kit.keys.workload.publicJwk, y: b64url(Buffer.alloc(32, 1)), alg: 'ES256' } },
    }),
    expect: { wit: INVALID },
  },
  {
    id: 'cnf-jwk-small-rsa',
    description: 'cnf.jwk is a 1024-bit RSA key',
    claims: () => ({ cnf: { jwk: { ...smallRsaJwk(), alg: 'RS256' } } }),
    expect: { wit: INVALID },
  },
];

let smallRsa: Record<string, unknown> | undefined;
function smallRsaJwk(): Record<string, unknown> {
  smallRsa ??= generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
    format: 'jwk',
  }) as Record<string, unknown>;
  return smallRsa;
}

const POSITION_LABEL: Record<PositionName, string> = { svid: 'JWT-SVID', wit: 'WIT', wpt: 'WPT' };

const TOKEN_CLAIM_CASES: HostileCase[] = TOKEN_CLAIM_ATTACKS.flatMap((attack) =>
  (Object.keys(attack.expect) as PositionName[]).map(
    (position): HostileCase => ({
      id: `claims-${position}-${attack.id}`,
      description: `${POSITION_LABEL[position]}: ${attack.description}`,
      category: 'claims',
      build: (kit) => {
        const m = minter(kit, position);
        return m.exchange(m.sign({}, attack.claims(kit)));
      },
      expect: rejected(attack.expect[position]!),
    }),
  ),
);

/** A WIT + proof request in the Workload-Proof-Token form, with extra header fields. */
function legacyForm(
  kit: Kit,
  proofClaims: (wit: string) => Record<string, unknown>,
  extra: Array<[string, string]>,
): Exchange {
  const wit = kit.wit();
  return single([
    ['workload-identity-token', wit],
    ['workload-proof-token', kit.wpt(wit, '/orders', proofClaims(wit))],
    ...extra,
  ]);
}

/** A WIT + `Authorization: WPT` request with extra header fields. */
function authorizationForm(
  kit: Kit,
  proofClaims: Record<string, unknown>,
  extra: Array<[string, string]>,
): Exchange {
  const wit = kit.wit();
  return single([
    ['workload-identity-token', wit],
    ['authorization', `WPT ${kit.wpt(wit, '/orders', proofClaims)}`],
    ...extra,
  ]);
}

const BINDING_CASES: HostileCase[] = [
  {
    id: 'binding-ath-wrong',
    description: 'ath of another access token than the Bearer one sent',
    category: 'binding',
    build: (kit) =>
      legacyForm(kit, () => ({ ath: sha256('another-token') }), [
        ['authorization', 'Bearer opaque-access-token'],
      ]),
    expect: rejected('token_binding_mismatch'),
  },
  {
    id: 'binding-ath-missing',
    description: 'an access token sent alongside a proof without ath',
    category: 'binding',
    build: (kit) => legacyForm(kit, () => ({}), [['authorization', 'Bearer opaque-access-token']]),
    expect: rejected('token_binding_mismatch'),
  },
  {
    id: 'binding-ath-dpop-scheme',
    description: 'an access token under DPoP whose ath is wrong',
    category: 'binding',
    build: (kit) =>
      legacyForm(kit, () => ({ ath: sha256('x') }), [['authorization', 'DPoP opaque-access-token']]),
    expect: rejected('token_binding_mismatch'),
  },
  {
    id: 'binding-tth-wrong',
    description: 'tth of another transaction token than the one sent',
    category: 'binding',
    build: (kit) => authorizationForm(kit, { tth: sha256('txn-b') }, [['txn-token', 'txn-a']]),
    expect: rejected('token_binding_mismatch'),
  },
  {
    id: 'binding-tth-missing',
    description: 'a Txn-Token sent with a proof that does not bind it',
    category: 'binding',
    build: (kit) => authorizationForm(kit, {}, [['txn-token', 'txn-a']]),
    expect: rejected('token_binding_mismatch'),
  },
  {
    id: 'binding-tth-duplicate-header',
    description: 'two Txn-Token fields (the proof binds the first)',
    category: 'binding',
    build: (kit) =>
      authorizationForm(kit, { tth: sha256('txn-a') }, [
        ['txn-token', 'txn-a'],
        ['txn-token', 'txn-b'],
      ]),
    expect: rejected('credentials_malformed'),
  },
  {
    id: 'binding-oth-wrong',
    description: 'oth with the wrong hash for the configured context header',
    category: 'binding',
    build: (kit) =>
      authorizationForm(kit, { oth: { [CONTEXT_TOKEN_HEADER]: sha256('other') } }, [
        [CONTEXT_TOKEN_HEADER, 'context'],
      ]),
    expect: rejected('token_binding_mismatch'),
  },
  {
    id: 'binding-oth-missing',
    description: 'a configured context header sent with a proof without oth',
    category: 'binding',
    build: (kit) => authorizationForm(kit, {}, [[CONTEXT_TOKEN_HEADER, 'context']]),
    expect: rejected('token_binding_mismatch'),
  },
  {
    id: 'binding-oth-extra-key',
    description: 'oth binding the context header correctly plus an unknown extra key',
    category: 'binding',
    build: (kit) =>
      authorizationForm(
        kit,
        { oth: { [CONTEXT_TOKEN_HEADER]: sha256('context'), 'x-unknown': sha256('u') } },
        [[CONTEXT_TOKEN_HEADER, 'context']],
      ),
    expect: rejected('token_binding_mismatch'),
  },
  {
    id: 'binding-oth-header-not-sent',
    description: 'oth binds the configured header, which the request does not carry',
    category: 'binding',
    build: (kit) => authorizationForm(kit, { oth: { [CONTEXT_TOKEN_HEADER]: sha256('context') } }, []),
    expect: rejected('token_binding_mismatch'),
  },
  {
    id: 'binding-proof-signed-by-other-key',
    description: 'a proof signed by a key other than the WIT’s cnf key',
    category: 'binding',
    build: (kit) => {
      const wit = kit.wit();
      return single([
        ['workload-identity-token', wit],
        ['authorization', `WPT ${kit.wpt(wit, '/orders', {}, {}, generateTestKey('ES256'))}`],
      ]);
    },
    expect: rejected('invalid_signature'),
  },
  {
    id: 'binding-proof-lifetime-too-long',
    description: 'a proof valid for an hour',
    category: 'binding',
    build: (kit) => authorizationForm(kit, { exp: kit.now() + 3600 }, []),
    expect: rejected('proof_lifetime_too_long'),
  },
];

export const CLAIM_CASES: HostileCase[] = [...TOKEN_CLAIM_CASES, ...BINDING_CASES];
