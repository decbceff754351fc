// JOSE-level attacks: algorithms, signatures, serialisation, header parameters. Each is
// applied to every token position it makes sense for (JWT-SVID, WIT, WPT).
import { createPublicKey, sign as nodeSign } from 'node:crypto';
import { b64url, generateTestKey } from '../../support/tokens.js';
import { type HostileCase, rejected } from '../case.js';
import { JWT_KID, type Kit, OTHER_KID, RSA_KID, WIT_KID } from '../kit.js';
import { type Minter, minter, type PositionName } from './positions.js';

interface JoseAttack {
  readonly id: string;
  readonly description: string;
  build(m: Minter, kit: Kit): string;
  /** One code for every position, or the code per position the attack applies to. */
  readonly expect: string | Partial<Record<PositionName, string>>;
}

/** The order of the P-256 group: r or s of 0 or >= n make an ECDSA signature invalid. */
const P256_ORDER = Buffer.from('FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551', 'hex');

function segments(token: string): [string, string, string] {
  const [header = '', payload = '', signature = ''] = token.split('.');
  return [header, payload, signature];
}

/** The token with its signature bytes replaced. */
function withSignature(token: string, signature: Buffer): string {
  const [header, payload] = segments(token);
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

/** The token's ES256 signature with r and/or s replaced. */
function withEcdsaParts(token: string, r?: Buffer, s?: Buffer): string {
  const signature = Buffer.from(segments(token)[2], 'base64url');
  return withSignature(token, Buffer.concat([r ?? signature.subarray(0, 32), s ?? signature.subarray(32)]));
}

/** Signs a hand-written header JSON text (with the position's defaults otherwise). */
function rawHeader(m: Minter, kit: Kit, headerJson: string): string {
  const payload = b64url(m.parts().claims);
  return kit.signSegments('ES256', Buffer.from(headerJson).toString('base64url'), payload, m.key);
}

/** Signs a hand-written payload (JSON text or bytes) under the position's default header. */
function rawPayload(m: Minter, kit: Kit, payload: string | Buffer): string {
  return kit.signSegments(
    'ES256',
    b64url(m.parts().header),
    Buffer.from(payload).toString('base64url'),
    m.key,
  );
}

/** Like {@link rawHeader}, for header bytes that are not text. */
function rawHeaderBytes(m: Minter, kit: Kit, header: Buffer): string {
  return kit.signSegments('ES256', header.toString('base64url'), b64url(m.parts().claims), m.key);
}

function headerJsonWith(m: Minter, extra: string): string {
  const text = JSON.stringify(m.parts().header);
  return `${text.slice(0, -1)},${extra}}`;
}

function hmacSecret(m: Minter, form: 'jwk' | 'pem'): Buffer {
  if (form === 'jwk') return Buffer.from(JSON.stringify(m.key.publicJwk));
  return Buffer.from(createPublicKey(m.key.privateKey).export({ type: 'spki', format: 'pem' }));
}

const MALFORMED = 'credentials_malformed';
const ALG = 'unsupported_algorithm';
const SIGNATURE = 'invalid_signature';
/**
 * A header alg that does not fit the key: a bundle key cannot have made that signature
 * (invalid_signature); a proof must use exactly the alg its WIT's cnf.jwk names.
 */
const KEY_MISMATCH = { svid: SIGNATURE, wit: SIGNATURE, wpt: ALG } as const;

const ATTACKS: JoseAttack[] = [
  // alg: none and friends
  {
    id: 'alg-none-empty-signature',
    description: 'alg "none" with an empty signature',
    build: (m) => `${b64url({ ...m.parts().header, alg: 'none' })}.${segments(m.sign())[1]}.`,
    expect: MALFORMED,
  },
  {
    id: 'alg-none-with-signature',
    description: 'alg "none" with signature bytes attached',
    build: (m) =>
      withSignature(m.sign(), Buffer.alloc(64, 1)).replace(
        /^[^.]+/,
        b64url({ ...m.parts().header, alg: 'none' }),
      ),
    expect: ALG,
  },
  ...['None', 'NONE', 'nOnE'].map(
    (alg): JoseAttack => ({
      id: `alg-${alg}`,
      description: `alg "${alg}" (case variant of none)`,
      build: (m) =>
        withSignature(m.sign(), Buffer.alloc(64, 1)).replace(/^[^.]+/, b64url({ ...m.parts().header, alg })),
      expect: ALG,
    }),
  ),
  {
    id: 'alg-empty',
    description: 'alg ""',
    build: (m, kit) => rawHeader(m, kit, JSON.stringify({ ...m.parts().header, alg: '' })),
    expect: MALFORMED,
  },
  {
    id: 'alg-missing',
    description: 'no alg header parameter',
    build: (m, kit) => rawHeader(m, kit, JSON.stringify({ ...m.parts().header, alg: undefined })),
    expect: MALFORMED,
  },
  {
    id: 'alg-number',
    description: 'alg is a number',
    build: (m, kit) => rawHeader(m, kit, JSON.stringify({ ...m.parts().header, alg: 256 })),
    expect: MALFORMED,
  },
  {
    id: 'alg-lowercase-es256',
    description: 'alg "es256" (algorithm names are case-sensitive)',
    build: (m, kit) => rawHeader(m, kit, JSON.stringify({ ...m.parts().header, alg: 'es256' })),
    expect: ALG,
  },
  // HMAC keyed with public material: the key-confusion attack
  ...(['HS256', 'HS384', 'HS512'] as const).map(
    (alg): JoseAttack => ({
      id: `alg-${alg.toLowerCase()}-public-jwk-secret`,
      description: `${alg} keyed with the verifying public JWK`,
      build: (m) => m.sign({ alg }, {}, hmacSecret(m, 'jwk')),
      expect: ALG,
    }),
  ),
  {
    id: 'alg-hs256-public-pem-secret',
    description: 'HS256 keyed with the verifying public key in PEM',
    build: (m) => m.sign({ alg: 'HS256' }, {}, hmacSecret(m, 'pem')),
    expect: ALG,
  },
  // Algorithm / key-type mismatches
  {
    id: 'alg-rs256-on-ec-key',
    description: 'RS256 header naming an EC key, signed with an RSA key',
    build: (m) => m.sign({ alg: 'RS256' }, {}, generateTestKey('RS256')),
    expect: KEY_MISMATCH,
  },
  {
    id: 'alg-es256-on-rsa-key',
    description: 'ES256 header naming the bundle’s RSA key',
    build: (m) => m.sign({ kid: RSA_KID }),
    expect: { svid: SIGNATURE },
  },
  {
    id: 'alg-es384-on-p256-key',
    description: 'ES384 header over a P-256 key',
    build: (m) => m.sign({ alg: 'ES384' }, {}, generateTestKey('ES384')),
    expect: KEY_MISMATCH,
  },
  {
    id: 'alg-eddsa-on-ec-key',
    description: 'EdDSA header over a P-256 key',
    build: (m) => m.sign({ alg: 'EdDSA' }, {}, generateTestKey('EdDSA')),
    // EdDSA is outside the JWT-SVID allow-list; WIT keys may be Ed25519, just not this one.
    expect: { svid: ALG, wit: SIGNATURE, wpt: ALG },
  },
  {
    id: 'alg-ps256-on-ec-key',
    description: 'PS256 header over a P-256 key',
    build: (m) => m.sign({ alg: 'PS256' }, {}, generateTestKey('PS256')),
    expect: KEY_MISMATCH,
  },
  // Psychic signatures and other broken ECDSA encodings
  {
    id: 'ecdsa-r-and-s-zero',
    description: 'ES256 signature with r = s = 0',
    build: (m) => withSignature(m.sign(), Buffer.alloc(64)),
    expect: SIGNATURE,
  },
  {
    id: 'ecdsa-r-zero',
    description: 'ES256 signature with r = 0',
    build: (m) => withEcdsaParts(m.sign(), Buffer.alloc(32)),
    expect: SIGNATURE,
  },
  {
    id: 'ecdsa-s-zero',
    description: 'ES256 signature with s = 0',
    build: (m) => withEcdsaParts(m.sign(), undefined, Buffer.alloc(32)),
    expect: SIGNATURE,
  },
  {
    id: 'ecdsa-r-equals-n',
    description: 'ES256 signature with r = n (the group order)',
    build: (m) => withEcdsaParts(m.sign(), P256_ORDER),
    expect: SIGNATURE,
  },
  {
    id: 'ecdsa-s-equals-n',
    description: 'ES256 signature with s = n',
    build: (m) => withEcdsaParts(m.sign(), undefined, P256_ORDER),
    expect: SIGNATURE,
  },
  {
    id: 'ecdsa-r-and-s-max',
    description: 'ES256 signature with r = s = 2^256 - 1 (>= n)',
    build: (m) => withSignature(m.sign(), Buffer.alloc(64, 0xff)),
    expect: SIGNATURE,
  },
  {
    id: 'ecdsa-der-encoded',
    description: 'a valid signature in DER instead of the JOSE r||s form',
    build: (m) => {
      const token = m.sign();
      const [header, payload] = segments(token);
      const der = nodeSign('sha256', Buffer.from(`${header}.${payload}`), {
        key: m.key.privateKey,
        dsaEncoding: 'der',
      });
      return withSignature(token, der);
    },
    expect: SIGNATURE,
  },
  {
    id: 'signature-truncated',
    description: 'the signature missing its last byte',
    build: (m) => withSignature(m.sign(), Buffer.from(segments(m.sign())[2], 'base64url').subarray(0, 63)),
    expect: SIGNATURE,
  },
  {
    id: 'signature-extended',
    description: 'a valid signature with one byte appended',
    build: (m) => {
      const token = m.sign();
      return withSignature(
        token,
        Buffer.concat([Buffer.from(segments(token)[2], 'base64url'), Buffer.from([0])]),
      );
    },
    expect: SIGNATURE,
  },
  {
    id: 'signature-of-other-token',
    description: 'the signature of another token of the same issuer',
    build: (m) =>
      withSignature(
        m.sign({}, { jti: 'another-token-aaaaaaaa' }),
        Buffer.from(segments(m.sign())[2], 'base64url'),
      ),
    expect: SIGNATURE,
  },
  // Serialisation
  {
    id: 'signature-empty',
    description: 'a correct header and payload with an empty signature',
    build: (m) => `${segments(m.sign())[0]}.${segments(m.sign())[1]}.`,
    expect: MALFORMED,
  },
  {
    id: 'signature-non-canonical-base64url',
    description: 'the signature’s last character with non-zero unused bits',
    build: (m) => {
      const token = m.sign();
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = alphabet.indexOf(token.charAt(token.length - 1));
      return token.slice(0, -1) + alphabet.charAt(last | 1);
    },
    expect: MALFORMED,
  },
  {
    id: 'signature-standard-base64',
    description: 'the signature in padded standard base64',
    build: (m) => {
      const token = m.sign();
      const [header, payload, signature] = segments(token);
      return `${header}.${payload}.${Buffer.from(signature, 'base64url').toString('base64')}`;
    },
    expect: MALFORMED,
  },
  {
    id: 'header-padded',
    description: 'the header segment with "=" padding',
    build: (m) => m.sign().replace('.', '==.'),
    expect: MALFORMED,
  },
  {
    id: 'payload-padded',
    description: 'the payload segment with "=" padding',
    build: (m) => {
      const [header, payload, signature] = segments(m.sign());
      return `${header}.${payload}=.${signature}`;
    },
    expect: MALFORMED,
  },
  {
    id: 'space-inside-token',
    description: 'a space after the first dot',
    build: (m) => m.sign().replace('.', '. '),
    expect: MALFORMED,
  },
  {
    id: 'tab-inside-token',
    description: 'a tab inside the payload segment',
    build: (m) => m.sign().replace('.', '.\t'),
    expect: MALFORMED,
  },
  {
    id: 'leading-dot',
    description: 'a dot before the header segment',
    build: (m) => `.${m.sign()}`,
    expect: MALFORMED,
  },
  {
    id: 'trailing-dot',
    description: 'a dot after the signature',
    build: (m) => `${m.sign()}.`,
    expect: MALFORMED,
  },
  {
    id: 'four-segments',
    description: 'an extra segment after the signature',
    build: (m) => `${m.sign()}.${b64url('extra')}`,
    expect: MALFORMED,
  },
  {
    id: 'five-segments',
    description: 'a JWE-shaped five-segment token',
    build: (m) => {
      const [header, payload, signature] = segments(m.sign());
      return `${header}..${payload}.${signature}.${signature.slice(0, 22)}`;
    },
    expect: MALFORMED,
  },
  {
    id: 'two-segments',
    description: 'header and payload only',
    build: (m) => segments(m.sign()).slice(0, 2).join('.'),
    expect: MALFORMED,
  },
  {
    id: 'empty-header-segment',
    description: 'an empty header segment',
    build: (m) => m.sign().replace(/^[^.]+/, ''),
    expect: MALFORMED,
  },
  {
    id: 'empty-payload-segment',
    description: 'an empty payload segment',
    build: (m) => {
      const [header, , signature] = segments(m.sign());
      return `${header}..${signature}`;
    },
    expect: MALFORMED,
  },
  {
    id: 'json-serialization',
    description: 'a JWS in JSON serialization instead of compact',
    build: (m) => {
      const [header, payload, signature] = segments(m.sign());
      return b64url({ protected: header, payload, signature });
    },
    expect: MALFORMED,
  },
  {
    id: 'trailing-garbage',
    description: 'a "~" after the signature',
    build: (m) => `${m.sign()}~`,
    expect: MALFORMED,
  },
  // Header and payload JSON
  {
    id: 'header-duplicate-alg',
    description: 'the header repeats "alg" (ES256 then none)',
    build: (m, kit) => rawHeader(m, kit, headerJsonWith(m, '"alg":"none"')),
    expect: MALFORMED,
  },
  {
    id: 'header-duplicate-typ',
    description: 'the header repeats "typ"',
    build: (m, kit) =>
      rawHeader(m, kit, headerJsonWith(m, `"typ":${JSON.stringify(m.parts().header.typ ?? 'JWT')}`)),
    expect: MALFORMED,
  },
  {
    id: 'payload-duplicate-sub',
    description: 'the payload repeats "sub" (another workload first)',
    build: (m, kit) => {
      const text = JSON.stringify(m.parts().claims);
      return rawPayload(m, kit, `{"sub":"spiffe://example.org/ns/prod/sa/admin",${text.slice(1)}`);
    },
    expect: { svid: MALFORMED, wit: MALFORMED },
  },
  {
    id: 'payload-duplicate-aud',
    description: 'the payload repeats "aud" (another audience first)',
    build: (m, kit) => {
      const text = JSON.stringify(m.parts().claims);
      return rawPayload(m, kit, `{"aud":"https://elsewhere.example",${text.slice(1)}`);
    },
    expect: { svid: MALFORMED, wpt: MALFORMED },
  },
  {
    id: 'payload-duplicate-exp',
    description: 'the payload repeats "exp" (a far-future value last)',
    build: (m, kit) => {
      const text = JSON.stringify(m.parts().claims);
      return rawPayload(m, kit, `${text.slice(0, -1)},"exp":99999999999}`);
    },
    expect: MALFORMED,
  },
  {
    id: 'header-json-array',
    description: 'the header is a JSON array',
    build: (m, kit) => rawHeader(m, kit, JSON.stringify([m.parts().header])),
    expect: MALFORMED,
  },
  {
    id: 'header-json-string',
    description: 'the header is a JSON string',
    build: (m, kit) => rawHeader(m, kit, JSON.stringify(JSON.stringify(m.parts().header))),
    expect: MALFORMED,
  },
  {
    id: 'header-json-null',
    description: 'the header is JSON null',
    build: (m, kit) => rawHeader(m, kit, 'null'),
    expect: MALFORMED,
  },
  {
    id: 'header-not-json',
    description: 'the header is not JSON',
    build: (m, kit) => rawHeader(m, kit, "{alg:'ES256'}"),
    expect: MALFORMED,
  },
  {
    id: 'header-invalid-utf8',
    description: 'the header bytes are not UTF-8',
    build: (m, kit) => rawHeaderBytes(m, kit, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])),
    expect: MALFORMED,
  },
  {
    id: 'header-bom',
    description: 'the header JSON starts with a byte order mark',
    build: (m, kit) => rawHeader(m, kit, `\ufeff${JSON.stringify(m.parts().header)}`),
    expect: MALFORMED,
  },
  {
    id: 'payload-json-array',
    description: 'the payload is a JSON array',
    build: (m, kit) => rawPayload(m, kit, JSON.stringify([m.parts().claims])),
    expect: MALFORMED,
  },
  {
    id: 'payload-not-json',
    description: 'the payload is not JSON',
    build: (m, kit) => rawPayload(m, kit, 'sub=spiffe://example.org/ns/prod/sa/billing'),
    expect: MALFORMED,
  },
  {
    id: 'payload-invalid-utf8',
    description: 'the payload bytes are not UTF-8',
    build: (m, kit) => rawPayload(m, kit, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])),
    expect: MALFORMED,
  },
  {
    id: 'nested-jwt',
    description: 'cty "JWT" with a nested JWT as the payload',
    build: (m, kit) => {
      const inner = m.sign();
      return kit.signSegments('ES256', b64url({ ...m.parts().header, cty: 'JWT' }), b64url(inner), m.key);
    },
    expect: MALFORMED,
  },
  // crit and b64
  {
    id: 'crit-unknown',
    description: 'crit names an unknown extension that is present',
    build: (m) => m.sign({ crit: ['urn:example:ext'], 'urn:example:ext': true }),
    expect: MALFORMED,
  },
  {
    id: 'crit-known-b64',
    description: 'crit ["b64"] with b64: false (RFC 7797 unencoded payload)',
    build: (m) => m.sign({ crit: ['b64'], b64: false }),
    expect: MALFORMED,
  },
  {
    id: 'crit-registered-name',
    description: 'crit names a registered claim ("exp")',
    build: (m) => m.sign({ crit: ['exp'] }),
    expect: MALFORMED,
  },
  {
    id: 'crit-empty',
    description: 'crit is an empty array',
    build: (m) => m.sign({ crit: [] }),
    expect: MALFORMED,
  },
  {
    id: 'b64-false-without-crit',
    description: 'b64: false outside crit',
    build: (m) => m.sign({ b64: false }),
    expect: MALFORMED,
  },
  {
    id: 'b64-true',
    description: 'b64: true (the default, still refused as an extension)',
    build: (m) => m.sign({ b64: true }),
    expect: MALFORMED,
  },
  // Keys named or embedded by the token
  ...(
    [
      ['jku', { jku: 'https://attacker.example/jwks.json' }],
      ['x5u', { x5u: 'https://attacker.example/cert.pem' }],
      ['x5c', { x5c: ['MIIBszCCAVmgAwIBAgIUQ'] }],
    ] as const
  ).map(
    ([name, extra]): JoseAttack => ({
      id: `${name}-attacker-signed`,
      description: `a ${name} header pointing at the attacker, signed with the attacker’s key`,
      build: (m, kit) => m.sign(extra, {}, kit.keys.attacker),
      expect: SIGNATURE,
    }),
  ),
  {
    id: 'jwk-embedded-attacker-signed',
    description: 'the attacker’s public key embedded as "jwk", signed with it',
    build: (m, kit) => m.sign({ jwk: kit.keys.attacker.publicJwk }, {}, kit.keys.attacker),
    expect: SIGNATURE,
  },
  {
    id: 'jwk-embedded-unknown-kid',
    description: 'an embedded "jwk" under a kid the bundle does not know',
    build: (m, kit) => m.sign({ kid: 'attacker-1', jwk: kit.keys.attacker.publicJwk }, {}, kit.keys.attacker),
    expect: { svid: 'unknown_key', wit: 'unknown_key' },
  },
  {
    id: 'kid-path-traversal',
    description: 'kid "../../../../etc/passwd"',
    build: (m) => m.sign({ kid: '../../../../etc/passwd' }),
    expect: { svid: 'unknown_key', wit: 'unknown_key' },
  },
  {
    id: 'kid-10kb',
    description: 'a 10 KB kid',
    build: (m) => m.sign({ kid: 'k'.repeat(10 * 1024) }),
    expect: { svid: 'unknown_key', wit: 'unknown_key' },
  },
  {
    id: 'kid-with-nul',
    description: 'a kid equal to a trusted one plus a NUL character',
    build: (m) => m.sign({ kid: `${m.position === 'wit' ? WIT_KID : JWT_KID}\u0000` }),
    expect: { svid: 'unknown_key', wit: 'unknown_key' },
  },
  {
    id: 'kid-number',
    description: 'kid is a number',
    build: (m) => m.sign({ kid: 1 }),
    expect: MALFORMED,
  },
  {
    id: 'kid-of-other-trust-domain',
    description: 'signed by another trusted trust domain’s key, naming its kid',
    build: (m, kit) => m.sign({ kid: OTHER_KID }, {}, kit.keys.other),
    expect: { svid: 'unknown_key', wit: 'unknown_key' },
  },
  {
    id: 'kid-of-other-use',
    description: 'signed by the trust domain’s key for the other token type',
    build: (m, kit) =>
      m.position === 'svid'
        ? m.sign({ kid: WIT_KID }, {}, kit.keys.wit)
        : m.sign({ kid: JWT_KID }, {}, kit.keys.jwt),
    expect: { svid: 'unknown_key', wit: 'unknown_key' },
  },
  // typ
  {
    id: 'typ-of-other-token',
    description: 'typ of another token type (JWT ↔ wit+jwt, wpt+jwt → wit+jwt)',
    build: (m) => m.sign({ typ: m.position === 'wit' ? 'JWT' : 'wit+jwt' }),
    expect: 'invalid_type',
  },
  {
    id: 'typ-trailing-space',
    description: 'the right typ with a trailing space',
    build: (m) => m.sign({ typ: `${String(m.parts().header.typ)} ` }),
    expect: 'invalid_type',
  },
  {
    id: 'typ-number',
    description: 'typ is a number',
    build: (m) => m.sign({ typ: 7519 }),
    expect: 'invalid_type',
  },
  {
    id: 'typ-array',
    description: 'typ is an array holding the right value',
    build: (m) => m.sign({ typ: [m.parts().header.typ] }),
    expect: 'invalid_type',
  },
  {
    id: 'typ-wrong-media-type-prefix',
    description: 'the right typ under "text/" instead of "application/"',
    build: (m) => m.sign({ typ: `text/${String(m.parts().header.typ).toLowerCase()}` }),
    expect: 'invalid_type',
  },
  {
    id: 'typ-access-token',
    description: 'typ "at+jwt" (an OAuth access token)',
    build: (m) => m.sign({ typ: 'at+jwt' }),
    expect: 'invalid_type',
  },
  {
    id: 'typ-missing',
    description: 'no typ on a token whose type requires one',
    build: (m) => m.sign({ typ: undefined }),
    expect: { wit: 'invalid_type', wpt: 'invalid_type' },
  },
];

function positionsOf(attack: JoseAttack): PositionName[] {
  return typeof attack.expect === 'string'
    ? ['svid', 'wit', 'wpt']
    : (Object.keys(attack.expect) as PositionName[]);
}

const POSITION_LABEL: Record<PositionName, string> = { svid: 'JWT-SVID', wit: 'WIT', wpt: 'WPT' };

export const JOSE_CASES: HostileCase[] = ATTACKS.flatMap((attack) =>
  positionsOf(attack).map(
    (position): HostileCase => ({
      id: `jose-${position}-${attack.id}`,
      description: `${POSITION_LABEL[position]}: ${attack.description}`,
      category: 'jose',
      build: (kit) => {
        const m = minter(kit, position);
        return m.exchange(attack.build(m, kit));
      },
      expect: rejected(typeof attack.expect === 'string' ? attack.expect : attack.expect[position]!),
    }),
  ),
);
