// HTTP-level attacks: how credentials are carried (duplicate and comma-joined fields, odd
// Authorization spacing and scheme case, both proof forms), bytes Node's parser refuses
// (oversized sections, control characters) or lets through (obs-text), pipelined replays,
// the same proof on another method or path, and trust-level refusals.
import { type Exchange, type HostileCase, rejected, single } from '../case.js';
import { BROKEN_TRUST_DOMAIN, type Kit } from '../kit.js';
import type { HeaderField } from '../raw-http.js';

const MALFORMED = rejected('credentials_malformed');
const MISSING = rejected('credentials_missing');

/** A valid WIT and a proof for it, addressed to `path`. */
function pair(kit: Kit, path = '/orders', sub?: string): { wit: string; wpt: string } {
  const wit = kit.wit(sub === undefined ? {} : { sub });
  return { wit, wpt: kit.wpt(wit, path) };
}

/** A JWT-SVID that fails only on time, to show odd framing still reaches the real check. */
const expiredSvid = (kit: Kit) => kit.svid({ iat: kit.now() - 7200, exp: kit.now() - 3600 });

/**
 * Sends a valid WIT + WPT request, then `replay(headers)`, on one connection, pipelined. When
 * both could be accepted on their own (`race`), exactly one must be.
 */
function replayAfterSuccess(
  kit: Kit,
  replay: (first: HeaderField[]) => Exchange['requests'][number],
  race = true,
): Exchange {
  const { wit, wpt } = pair(kit);
  const headers: HeaderField[] = [
    ['workload-identity-token', wit],
    ['authorization', `WPT ${wpt}`],
  ];
  const requests = [{ method: 'GET', path: '/orders', headers }, replay(headers)];
  return race ? { requests, race } : { requests };
}

type Case = Omit<HostileCase, 'category'>;

const CASES: Case[] = [
  // What is (not) a credential
  { id: 'no-credentials', description: 'no credential at all', build: () => single([]), expect: MISSING },
  {
    id: 'basic-scheme',
    description: 'Authorization: Basic',
    build: () => single([['authorization', 'Basic YWRtaW46YWRtaW4=']]),
    expect: MISSING,
  },
  {
    id: 'unknown-scheme',
    description: 'Authorization with an unknown scheme carrying a JWT-SVID',
    build: (kit) => single([['authorization', `Token ${kit.svid()}`]]),
    expect: MISSING,
  },
  {
    id: 'dpop-without-wit',
    description: 'Authorization: DPoP without a WIT',
    build: (kit) => single([['authorization', `DPoP ${kit.svid()}`]]),
    expect: MISSING,
  },
  {
    id: 'scheme-only',
    description: 'Authorization: "Bearer" without a token',
    build: () => single([['authorization', 'Bearer']]),
    expect: MALFORMED,
  },
  {
    id: 'scheme-trailing-space',
    description: 'Authorization: "Bearer " (Node strips the space)',
    build: () => single([['authorization', 'Bearer ']]),
    expect: MALFORMED,
  },
  {
    id: 'scheme-tab-separator',
    description: 'a tab between scheme and token',
    build: (kit) => single([['authorization', `Bearer\t${kit.svid()}`]]),
    expect: MALFORMED,
  },
  {
    id: 'scheme-equals',
    description: '"Bearer=<token>"',
    build: (kit) => single([['authorization', `Bearer=${kit.svid()}`]]),
    expect: MALFORMED,
  },
  {
    id: 'token-then-junk',
    description: 'a second word after the token',
    build: (kit) => single([['authorization', `Bearer ${kit.svid()} extra`]]),
    expect: MALFORMED,
  },
  {
    id: 'token-quoted',
    description: 'the token in double quotes',
    build: (kit) => single([['authorization', `Bearer "${kit.svid()}"`]]),
    expect: rejected('credentials_malformed'),
  },
  {
    id: 'scheme-uppercase',
    description: '"BEARER" still reaches the token checks',
    build: (kit) => single([['authorization', `BEARER ${expiredSvid(kit)}`]]),
    expect: rejected('token_expired'),
  },
  {
    id: 'scheme-mixed-case',
    description: '"bEaReR" still reaches the token checks',
    build: (kit) => single([['authorization', `bEaReR ${expiredSvid(kit)}`]]),
    expect: rejected('token_expired'),
  },
  {
    id: 'scheme-many-spaces',
    description: 'several spaces after the scheme',
    build: (kit) => single([['authorization', `Bearer    ${expiredSvid(kit)}`]]),
    expect: rejected('token_expired'),
  },
  {
    id: 'leading-whitespace',
    description: 'leading whitespace before the scheme (stripped by Node)',
    build: (kit) => single([['authorization', `   Bearer ${expiredSvid(kit)}`]]),
    expect: rejected('token_expired'),
  },
  {
    id: 'header-name-uppercase',
    description: 'AUTHORIZATION in upper case',
    build: (kit) => single([['AUTHORIZATION', `Bearer ${expiredSvid(kit)}`]]),
    expect: rejected('token_expired'),
  },
  {
    id: 'wpt-scheme-mixed-case',
    description: '"wPt" with a proof for another path',
    build: (kit) => {
      const { wit, wpt } = pair(kit, '/admin');
      return single([
        ['workload-identity-token', wit],
        ['authorization', `wPt ${wpt}`],
      ]);
    },
    expect: rejected('audience_mismatch'),
  },
  // Duplicates and comma-joined fields
  {
    id: 'duplicate-authorization-bearer',
    description: 'two Authorization: Bearer fields',
    build: (kit) =>
      single([
        ['authorization', `Bearer ${kit.svid()}`],
        ['authorization', `Bearer ${kit.svid()}`],
      ]),
    expect: MALFORMED,
  },
  {
    id: 'comma-joined-authorization',
    description: 'two Bearer credentials comma-joined in one field',
    build: (kit) => single([['authorization', `Bearer ${kit.svid()}, Bearer ${kit.svid()}`]]),
    expect: MALFORMED,
  },
  {
    id: 'comma-joined-authorization-no-space',
    description: 'two tokens joined by a bare comma',
    build: (kit) => single([['authorization', `Bearer ${kit.svid()},${kit.svid()}`]]),
    expect: MALFORMED,
  },
  {
    id: 'duplicate-authorization-mixed',
    description: 'Authorization: WPT and Authorization: Bearer',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single([
        ['workload-identity-token', wit],
        ['authorization', `WPT ${wpt}`],
        ['authorization', `Bearer ${kit.svid()}`],
      ]);
    },
    expect: MALFORMED,
  },
  {
    id: 'duplicate-wit',
    description: 'two Workload-Identity-Token fields',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single([
        ['workload-identity-token', wit],
        ['workload-identity-token', wit],
        ['authorization', `WPT ${wpt}`],
      ]);
    },
    expect: MALFORMED,
  },
  {
    id: 'comma-joined-wit',
    description: 'two WITs comma-joined in one field',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single([
        ['workload-identity-token', `${wit}, ${kit.wit()}`],
        ['authorization', `WPT ${wpt}`],
      ]);
    },
    expect: MALFORMED,
  },
  {
    id: 'duplicate-proof-header',
    description: 'two Workload-Proof-Token fields',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single([
        ['workload-identity-token', wit],
        ['workload-proof-token', wpt],
        ['workload-proof-token', wpt],
      ]);
    },
    expect: MALFORMED,
  },
  {
    id: 'comma-joined-proof-header',
    description: 'two proofs comma-joined in Workload-Proof-Token',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single([
        ['workload-identity-token', wit],
        ['workload-proof-token', `${wpt}, ${kit.wpt(wit, '/orders')}`],
      ]);
    },
    expect: MALFORMED,
  },
  {
    id: 'both-proof-forms',
    description: 'Authorization: WPT and Workload-Proof-Token together',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single([
        ['workload-identity-token', wit],
        ['authorization', `WPT ${wpt}`],
        ['workload-proof-token', kit.wpt(wit, '/orders')],
      ]);
    },
    expect: MALFORMED,
  },
  {
    id: 'wit-without-proof',
    description: 'a WIT alone',
    build: (kit) => single([['workload-identity-token', kit.wit()]]),
    expect: MALFORMED,
  },
  {
    id: 'wit-with-bearer-svid',
    description: 'a WIT with a JWT-SVID (no proof): never downgraded',
    build: (kit) =>
      single([
        ['workload-identity-token', kit.wit()],
        ['authorization', `Bearer ${kit.svid()}`],
      ]),
    expect: MALFORMED,
  },
  {
    id: 'proof-header-without-wit',
    description: 'Workload-Proof-Token without a WIT',
    build: (kit) => single([['workload-proof-token', pair(kit).wpt]]),
    expect: MALFORMED,
  },
  {
    id: 'wpt-authorization-without-wit',
    description: 'Authorization: WPT without a WIT',
    build: (kit) => single([['authorization', `WPT ${pair(kit).wpt}`]]),
    expect: MALFORMED,
  },
  {
    id: 'proof-without-wit-next-to-bearer',
    description: 'Workload-Proof-Token and a Bearer JWT-SVID, no WIT',
    build: (kit) =>
      single([
        ['workload-proof-token', pair(kit).wpt],
        ['authorization', `Bearer ${kit.svid()}`],
      ]),
    expect: MALFORMED,
  },
  {
    id: 'empty-wit',
    description: 'an empty Workload-Identity-Token field',
    build: (kit) =>
      single([
        ['workload-identity-token', ''],
        ['authorization', `WPT ${pair(kit).wpt}`],
      ]),
    expect: MALFORMED,
  },
  {
    id: 'svid-as-proof',
    description: 'a JWT-SVID in Authorization: WPT',
    build: (kit) =>
      single([
        ['workload-identity-token', kit.wit()],
        ['authorization', `WPT ${kit.svid()}`],
      ]),
    expect: rejected('invalid_type'),
  },
  {
    id: 'proof-as-bearer',
    description: 'a WPT presented as a bearer token',
    build: (kit) => single([['authorization', `Bearer ${pair(kit).wpt}`]]),
    expect: rejected('invalid_type'),
  },
  {
    id: 'wit-as-bearer',
    description: 'a WIT presented as a bearer token',
    build: (kit) => single([['authorization', `Bearer ${kit.wit()}`]]),
    expect: rejected('invalid_type'),
  },
  {
    id: 'svid-as-wit',
    description: 'a JWT-SVID in Workload-Identity-Token',
    build: (kit) => {
      const svid = kit.svid();
      return single([
        ['workload-identity-token', svid],
        ['authorization', `WPT ${kit.wpt(svid, '/orders')}`],
      ]);
    },
    expect: rejected('invalid_type'),
  },
  // Bytes: obs-text reaches the library; control characters and oversize do not
  {
    id: 'obs-text-in-wit',
    description: 'UTF-8 bytes (é) inside the WIT',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single([
        [
          'workload-identity-token',
          Buffer.concat([Buffer.from(wit.slice(0, 20)), Buffer.from('é'), Buffer.from(wit.slice(20))]),
        ],
        ['authorization', `WPT ${wpt}`],
      ]);
    },
    expect: MALFORMED,
  },
  {
    id: 'obs-text-in-bearer',
    description: 'a 0xFF byte inside the bearer token',
    build: (kit) => {
      const svid = kit.svid();
      return single([
        [
          'authorization',
          Buffer.concat([
            Buffer.from(`Bearer ${svid.slice(0, 30)}`),
            Buffer.from([0xff]),
            Buffer.from(svid.slice(30)),
          ]),
        ],
      ]);
    },
    expect: MALFORMED,
  },
  {
    id: 'obs-text-scheme',
    description: 'a non-ASCII scheme ("Bëarer")',
    build: (kit) =>
      single([
        [
          'authorization',
          Buffer.concat([Buffer.from('B'), Buffer.from('ë'), Buffer.from(`arer ${kit.svid()}`)]),
        ],
      ]),
    expect: MISSING,
  },
  {
    id: 'obs-text-in-proof-header',
    description: 'UTF-8 bytes inside Workload-Proof-Token',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single([
        ['workload-identity-token', wit],
        ['workload-proof-token', Buffer.concat([Buffer.from('ü'), Buffer.from(wpt)])],
      ]);
    },
    expect: MALFORMED,
  },
  {
    id: 'non-ascii-header-name',
    description: 'a non-ASCII byte in a header name',
    build: (kit) => single([[`authorizatio${String.fromCharCode(0xf1)}`, `Bearer ${kit.svid()}`]]),
    expect: { status: 400, parser: true },
  },
  {
    id: 'control-character-in-value',
    description: 'a 0x01 byte inside the Authorization value',
    build: (kit) =>
      single([['authorization', `Bearer ${kit.svid().slice(0, 10)}\u0001${kit.svid().slice(10)}`]]),
    expect: { status: 400, parser: true },
  },
  {
    id: 'nul-in-value',
    description: 'a NUL byte inside the WIT',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single([
        ['workload-identity-token', `${wit.slice(0, 5)}\u0000${wit.slice(5)}`],
        ['authorization', `WPT ${wpt}`],
      ]);
    },
    expect: { status: 400, parser: true },
  },
  {
    id: 'bare-cr-in-value',
    description: 'a bare CR inside the Authorization value (header injection)',
    build: (kit) => single([['authorization', `Bearer ${kit.svid()}\rx-injected: 1`]]),
    expect: { status: 400, parser: true },
  },
  {
    id: 'header-section-over-16kb',
    description: 'an Authorization field of 17 KB (Node: 431)',
    build: (kit) => single([['authorization', `Bearer ${kit.svid()}${'A'.repeat(17 * 1024)}`]]),
    expect: { status: 431, parser: true },
  },
  {
    id: 'many-fields-over-16kb',
    description: '200 small fields adding up to more than 16 KB (Node: 431)',
    build: (kit) =>
      single([
        ...Array.from({ length: 200 }, (_, i): HeaderField => [`x-filler-${i}`, 'f'.repeat(90)]),
        ['authorization', `Bearer ${kit.svid()}`],
      ]),
    expect: { status: 431, parser: true },
  },
  {
    id: 'wit-over-16kb',
    description: 'a WIT padded past 16 KB (Node: 431)',
    build: (kit) => {
      const wit = kit.wit({ pad: 'p'.repeat(13 * 1024) });
      return single([
        ['workload-identity-token', wit],
        ['authorization', `WPT ${kit.wpt(wit, '/orders')}`],
      ]);
    },
    expect: { status: 431, parser: true },
  },
  {
    id: 'token-12kb-garbage',
    description: '12 KB of base64url that is not a token',
    build: () => single([['authorization', `Bearer ${'A'.repeat(12 * 1024)}`]]),
    expect: MALFORMED,
  },
  {
    id: 'token-many-dots',
    description: '8 KB of dots',
    build: () => single([['authorization', `Bearer ${'.'.repeat(8 * 1024)}`]]),
    expect: MALFORMED,
  },
  // Replays and reuse on another method or path
  {
    id: 'pipelined-replay',
    description: 'the same WIT + WPT pipelined twice on one connection',
    build: (kit) => replayAfterSuccess(kit, (headers) => ({ method: 'GET', path: '/orders', headers })),
    expect: rejected('replay_detected'),
  },
  {
    id: 'pipelined-replay-post',
    description: 'the proof of an accepted GET replayed as a POST',
    build: (kit) => replayAfterSuccess(kit, (headers) => ({ method: 'POST', path: '/orders', headers })),
    expect: rejected('replay_detected'),
  },
  {
    id: 'pipelined-replay-delete',
    description: 'the proof of an accepted GET replayed as a DELETE',
    build: (kit) => replayAfterSuccess(kit, (headers) => ({ method: 'DELETE', path: '/orders', headers })),
    expect: rejected('replay_detected'),
  },
  {
    id: 'pipelined-replay-other-form',
    description: 'an accepted proof replayed in the Workload-Proof-Token form',
    build: (kit) =>
      replayAfterSuccess(kit, ([wit, auth]) => ({
        method: 'GET',
        path: '/orders',
        headers: [wit!, ['workload-proof-token', String(auth![1]).slice(4)]],
      })),
    expect: rejected('replay_detected'),
  },
  {
    id: 'pipelined-replay-query',
    description: 'an accepted proof replayed with a query string added',
    build: (kit) =>
      replayAfterSuccess(kit, (headers) => ({ method: 'GET', path: '/orders?page=2', headers })),
    expect: rejected('replay_detected'),
  },
  {
    id: 'pipelined-reuse-other-path',
    description: 'an accepted proof reused on another path',
    build: (kit) =>
      replayAfterSuccess(kit, (headers) => ({ method: 'GET', path: '/optional', headers }), false),
    expect: rejected('audience_mismatch'),
  },
  {
    id: 'proof-for-other-path',
    description: 'a proof for /admin sent to /orders',
    build: (kit) => {
      const { wit, wpt } = pair(kit, '/admin');
      return single([
        ['workload-identity-token', wit],
        ['authorization', `WPT ${wpt}`],
      ]);
    },
    expect: rejected('audience_mismatch'),
  },
  {
    id: 'proof-for-other-path-post',
    description: 'a proof for /orders sent as a POST to /admin',
    build: (kit) => {
      const { wit, wpt } = pair(kit);
      return single(
        [
          ['workload-identity-token', wit],
          ['authorization', `WPT ${wpt}`],
        ],
        '/admin',
        'POST',
      );
    },
    expect: rejected('audience_mismatch'),
  },
  {
    id: 'host-header-spoof',
    description: 'a proof for the Host the server sees, with X-Forwarded-Host',
    build: (kit) => {
      const wit = kit.wit();
      return single([
        ['workload-identity-token', wit],
        ['authorization', `WPT ${kit.wpt(wit, '/orders', { aud: 'https://127.0.0.1/orders' })}`],
        ['x-forwarded-host', '127.0.0.1'],
        ['x-forwarded-proto', 'https'],
      ]);
    },
    expect: rejected('audience_mismatch'),
  },
  // Trust
  {
    id: 'untrusted-trust-domain-svid',
    description: 'a JWT-SVID from a trust domain with no bundle',
    build: (kit) =>
      single([['authorization', `Bearer ${kit.svid({ sub: 'spiffe://evil.example/ns/prod/sa/billing' })}`]]),
    expect: rejected('untrusted_trust_domain'),
  },
  {
    id: 'untrusted-trust-domain-wit',
    description: 'a WIT from a trust domain with no bundle',
    build: (kit) => {
      const { wit, wpt } = pair(kit, '/orders', 'spiffe://evil.example/w');
      return single([
        ['workload-identity-token', wit],
        ['authorization', `WPT ${wpt}`],
      ]);
    },
    expect: rejected('untrusted_trust_domain'),
  },
  {
    id: 'trust-unavailable-svid',
    description: 'a JWT-SVID whose trust domain’s bundle source fails',
    build: (kit) =>
      single([['authorization', `Bearer ${kit.svid({ sub: `spiffe://${BROKEN_TRUST_DOMAIN}/w` })}`]]),
    expect: rejected('trust_unavailable'),
  },
  {
    id: 'trust-unavailable-wit',
    description: 'a WIT whose trust domain’s bundle source fails',
    build: (kit) => {
      const { wit, wpt } = pair(kit, '/orders', `spiffe://${BROKEN_TRUST_DOMAIN}/w`);
      return single([
        ['workload-identity-token', wit],
        ['authorization', `WPT ${wpt}`],
      ]);
    },
    expect: rejected('trust_unavailable'),
  },
  {
    id: 'valid-caller-on-admin',
    description: 'an authenticated caller /admin does not admit',
    build: (kit) => {
      const { wit, wpt } = pair(kit, '/admin');
      return single(
        [
          ['workload-identity-token', wit],
          ['authorization', `WPT ${wpt}`],
        ],
        '/admin',
      );
    },
    expect: rejected('access_denied'),
  },
  {
    id: 'optional-route-invalid-credential',
    description: 'an invalid credential on a route where credentials are optional',
    build: (kit) => single([['authorization', `Bearer ${expiredSvid(kit)}`]], '/optional'),
    expect: rejected('token_expired'),
  },
  {
    id: 'optional-route-malformed',
    description: 'a WIT without a proof where credentials are optional',
    build: (kit) => single([['workload-identity-token', kit.wit()]], '/optional'),
    expect: MALFORMED,
  },
];

export const HTTP_CASES: HostileCase[] = CASES.map((testCase) => ({
  ...testCase,
  id: `http-${testCase.id}`,
  category: testCase.id.includes('trust')
    ? 'trust'
    : testCase.id === 'valid-caller-on-admin'
      ? 'authorization'
      : 'http',
}));
