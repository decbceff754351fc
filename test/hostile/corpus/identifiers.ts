// Identifier attacks: every class of invalid SPIFFE ID (SPIFFE-ID.md §2) as a JWT-SVID or
// WIT subject, wimse:// variants as WIT subjects, and look-alikes of the one workload /admin
// admits. Subjects are correctly signed: only the identifier rules can refuse them.
import { type HostileCase, rejected, single } from '../case.js';
import { ADMIN_ID, type Kit } from '../kit.js';
import { minter, type PositionName } from './positions.js';

const INVALID_SUBJECT = 'invalid_subject';

/** Invalid SPIFFE IDs, each one rule; all in (or naming) the trusted trust domain. */
const INVALID_SPIFFE_IDS: ReadonlyArray<readonly [id: string, description: string, value: string]> = [
  ['uppercase-trust-domain', 'an upper-case trust domain', 'spiffe://Example.org/ns/prod/sa/billing'],
  ['uppercase-scheme', 'an upper-case scheme', 'SPIFFE://example.org/ns/prod/sa/billing'],
  ['port', 'a port in the authority', 'spiffe://example.org:443/ns/prod/sa/billing'],
  ['userinfo', 'userinfo in the authority', 'spiffe://admin@example.org/ns/prod/sa/billing'],
  ['query', 'a query', 'spiffe://example.org/ns/prod/sa/billing?admin=1'],
  ['fragment', 'a fragment', 'spiffe://example.org/ns/prod/sa/billing#admin'],
  ['dot-segment', 'a "." segment', 'spiffe://example.org/ns/./prod/sa/billing'],
  ['dot-dot-segment', 'a ".." segment', 'spiffe://example.org/ns/prod/sa/billing/../admin'],
  ['empty-segment', 'an empty segment', 'spiffe://example.org/ns//prod/sa/billing'],
  ['trailing-slash', 'a trailing slash', 'spiffe://example.org/ns/prod/sa/billing/'],
  ['percent-encoding', 'a percent-encoded character', 'spiffe://example.org/ns/prod/sa/%62illing'],
  [
    'trust-domain-too-long',
    'a trust domain longer than 255 bytes',
    `spiffe://${'a'.repeat(250)}.example.org/w`,
  ],
  ['empty-trust-domain', 'an empty trust domain', 'spiffe:///ns/prod/sa/billing'],
  ['no-authority', 'no "//" after the scheme', 'spiffe:example.org/ns/prod/sa/billing'],
  ['no-scheme', 'no scheme', '//example.org/ns/prod/sa/billing'],
  ['bad-path-character', 'a "*" in the path', 'spiffe://example.org/ns/prod/sa/*'],
  ['bad-trust-domain-character', 'a "!" in the trust domain', 'spiffe://example!.org/ns/prod/sa/billing'],
  ['ip-literal', 'an IPv6 literal trust domain', 'spiffe://[::1]/ns/prod/sa/billing'],
  ['non-ascii-path', 'a non-ASCII path', 'spiffe://example.org/ns/prod/sa/bílling'],
  ['homoglyph-trust-domain', 'a Cyrillic look-alike trust domain', 'spiffe://exаmple.org/ns/prod/sa/billing'],
  ['whitespace', 'a trailing space', 'spiffe://example.org/ns/prod/sa/billing '],
  ['backslash', 'a backslash path separator', 'spiffe://example.org\\ns\\prod'],
];

/** Invalid WIMSE workload identifiers (draft-ietf-wimse-identifier §4.1) as WIT subjects. */
const INVALID_WIMSE_IDS: ReadonlyArray<readonly [id: string, description: string, value: string]> = [
  ['wimse-uppercase-scheme', 'WIMSE:// upper-case scheme', 'WIMSE://example.org/billing'],
  ['wimse-uppercase-trust-domain', 'an upper-case trust domain', 'wimse://Example.org/billing'],
  ['wimse-port', 'a port', 'wimse://example.org:8443/billing'],
  ['wimse-userinfo', 'userinfo', 'wimse://user@example.org/billing'],
  ['wimse-no-authority', 'no "//" after the scheme', 'wimse:example.org/billing'],
  ['wimse-empty-authority', 'an empty authority', 'wimse:///billing'],
  ['wimse-dot-dot', 'a ".." segment', 'wimse://example.org/a/../admin'],
  ['wimse-query', 'a query', 'wimse://example.org/billing?x=1'],
  ['wimse-fragment', 'a fragment', 'wimse://example.org/billing#x'],
  ['wimse-bad-percent', 'a malformed percent-encoding', 'wimse://example.org/bill%zzing'],
  ['wimse-relative', 'a relative reference', '/billing'],
  // SPIFFE only requires support for 2048 bytes; WIMSE-ID asks parsers to bound their work.
  ['wimse-too-long', 'longer than the 8192-byte bound', `wimse://example.org/${'a'.repeat(8192)}`],
  [
    'spiffe-too-long',
    'a SPIFFE ID longer than the 8192-byte bound',
    `spiffe://example.org/${'a'.repeat(8192)}`,
  ],
];

function subjectCase(position: PositionName, id: string, description: string, value: string): HostileCase {
  return {
    id: `identifiers-${position}-${id}`,
    description: `${position === 'svid' ? 'JWT-SVID' : 'WIT'} sub with ${description}`,
    category: 'identifiers',
    build: (kit: Kit) => {
      const m = minter(kit, position);
      return m.exchange(m.sign({}, { sub: value }));
    },
    expect: rejected(INVALID_SUBJECT),
  };
}

const ADMIN_LOOKALIKES: HostileCase[] = [
  {
    id: 'identifiers-admin-trailing-slash',
    description: 'on /admin, the admitted ID with a trailing slash',
    category: 'identifiers',
    build: (kit) => adminRequest(kit, `${ADMIN_ID}/`),
    expect: rejected(INVALID_SUBJECT),
  },
  {
    id: 'identifiers-admin-uppercase-path',
    description: 'on /admin, the admitted ID with an upper-case path (a different, valid ID)',
    category: 'authorization',
    build: (kit) => adminRequest(kit, ADMIN_ID.replace('admin', 'ADMIN')),
    expect: rejected('access_denied'),
  },
  {
    id: 'identifiers-admin-suffix',
    description: 'on /admin, a child path of the admitted ID',
    category: 'authorization',
    build: (kit) => adminRequest(kit, `${ADMIN_ID}/child`),
    expect: rejected('access_denied'),
  },
  {
    id: 'identifiers-admin-prefix',
    description: 'on /admin, a prefix of the admitted ID',
    category: 'authorization',
    build: (kit) => adminRequest(kit, ADMIN_ID.slice(0, -1)),
    expect: rejected('access_denied'),
  },
  {
    id: 'identifiers-admin-other-trust-domain',
    description: 'on /admin, the admitted path in another trusted trust domain',
    category: 'authorization',
    build: (kit) => adminRequest(kit, ADMIN_ID.replace('example.org', 'other.example'), 'svid'),
    expect: rejected('access_denied'),
  },
  {
    id: 'identifiers-admin-wimse-scheme',
    description: 'on /admin, the admitted path under wimse:// instead of spiffe://',
    category: 'authorization',
    build: (kit) => adminRequest(kit, ADMIN_ID.replace('spiffe:', 'wimse:')),
    expect: rejected('access_denied'),
  },
];

/** A request to /admin as `sub`: a WIT + proof, or a JWT-SVID signed by the other domain. */
function adminRequest(kit: Kit, sub: string, form: 'wit' | 'svid' = 'wit') {
  if (form === 'svid') {
    return single(
      [['authorization', `Bearer ${kit.svid({ sub }, { kid: 'other-jwt-1' }, kit.keys.other)}`]],
      '/admin',
    );
  }
  const wit = kit.wit({ sub });
  return single(
    [
      ['workload-identity-token', wit],
      ['authorization', `WPT ${kit.wpt(wit, '/admin')}`],
    ],
    '/admin',
  );
}

export const IDENTIFIER_CASES: HostileCase[] = [
  ...INVALID_SPIFFE_IDS.flatMap(([id, description, value]) => [
    subjectCase('svid', id, description, value),
    subjectCase('wit', id, description, value),
  ]),
  ...INVALID_WIMSE_IDS.map(([id, description, value]) => subjectCase('wit', id, description, value)),
  subjectCase(
    'svid',
    'wimse-scheme',
    'a wimse:// identifier (JWT-SVIDs need SPIFFE IDs)',
    'wimse://example.org/billing',
  ),
  subjectCase('svid', 'https-scheme', 'an https:// URL', 'https://example.org/ns/prod/sa/billing'),
  ...ADMIN_LOOKALIKES,
];
