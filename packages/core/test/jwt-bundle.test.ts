import type { CryptoKey, JWK } from 'jose';
import { CompactSign, compactVerify, exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError } from '../src/errors/errors.js';
import { TrustDomain } from '../src/identifiers/spiffe-id.js';
import { BundleKey, InvalidBundleError, JwtBundle } from '../src/trust/jwt-bundle.js';
import { StaticBundleSource } from '../src/trust/static-bundle-source.js';

const TD = 'example.org';

let ecPublic: JWK;
let ecPrivate: CryptoKey;
let rsaPublic: JWK;
let edPublic: JWK;
let ecPrivateJwk: JWK;

beforeAll(async () => {
  const ec = await generateKeyPair('ES256', { extractable: true });
  ecPublic = await exportJWK(ec.publicKey);
  ecPrivateJwk = await exportJWK(ec.privateKey);
  ecPrivate = ec.privateKey;
  rsaPublic = await exportJWK((await generateKeyPair('RS256', { extractable: true })).publicKey);
  edPublic = await exportJWK((await generateKeyPair('EdDSA', { extractable: true })).publicKey);
});

function reasonOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof InvalidBundleError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('BundleKey', () => {
  it('keeps only public members, so jose accepts keys marked jwt-svid', async () => {
    const key = new BundleKey(
      { ...ecPublic, kid: 'k1', use: 'jwt-svid', key_ops: ['verify'], ext: true },
      'jwt-svid',
    );
    expect(key.jwk).toEqual({ ...ecPublic, kid: 'k1' });
    expect(Object.isFrozen(key.jwk)).toBe(true);
    expect(key).toMatchObject({ kid: 'k1', use: 'jwt-svid', kty: 'EC', crv: 'P-256', alg: undefined });

    const signature = await new CompactSign(new TextEncoder().encode('payload'))
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .sign(ecPrivate);
    await expect(compactVerify(signature, await key.cryptoKey('ES256'))).resolves.toBeDefined();
  });

  it('memoises the import per algorithm and shares it between concurrent callers', async () => {
    const key = new BundleKey({ ...rsaPublic, kid: 'rsa' });
    const first = key.cryptoKey('RS256');
    const second = key.cryptoKey('RS256');
    expect(second).toBe(first);
    const [a, b] = await Promise.all([first, second]);
    expect(a).toBe(b);
    expect(await key.cryptoKey('RS256')).toBe(a);
    const pss = await key.cryptoKey('PS256');
    expect(pss).not.toBe(a);
    expect(pss.algorithm.name).toBe('RSA-PSS');
  });

  it('rejects algorithms the key cannot verify', async () => {
    const ec = new BundleKey({ ...ecPublic, kid: 'ec' });
    const rsa = new BundleKey({ ...rsaPublic, kid: 'rsa' });
    const ed = new BundleKey({ ...edPublic, kid: 'ed' });
    const declared = new BundleKey({ ...ecPublic, kid: 'ec', alg: 'ES256' });
    const attempts: Array<[BundleKey, string]> = [
      [ec, 'ES384'],
      [ec, 'RS256'],
      [ec, 'HS256'],
      [ec, 'none'],
      [ec, 'EdDSA'],
      [rsa, 'ES256'],
      [rsa, 'HS256'],
      [rsa, 'RSA-OAEP'],
      [ed, 'ES256'],
      [declared, 'ES384'],
      [ec, '__proto__'],
      [ec, 'constructor'],
    ];
    for (const [key, alg] of attempts) {
      expect(key.supportsAlgorithm(alg), `${key.kid} ${alg}`).toBe(false);
      const rejection = await key.cryptoKey(alg).catch((error: unknown) => error);
      expect(rejection, `${key.kid} ${alg}`).toBeInstanceOf(AuthenticationError);
      expect((rejection as AuthenticationError).code).toBe('invalid_signature');
    }
    expect(ed.supportsAlgorithm('EdDSA')).toBe(true);
    expect(ed.supportsAlgorithm('Ed25519')).toBe(true);
    await expect(ed.cryptoKey('EdDSA')).resolves.toBeDefined();
    expect(declared.supportsAlgorithm('ES256')).toBe(true);
  });

  it('rejects a key whose material does not import, without quoting it', async () => {
    const broken = new BundleKey({ kty: 'EC', crv: 'P-256', kid: 'bad', x: 'AAAA', y: 'AAAA' });
    const rejection = await broken.cryptoKey('ES256').catch((error: unknown) => error);
    expect(rejection).toBeInstanceOf(AuthenticationError);
    expect((rejection as Error).message).not.toContain('AAAA');
  });

  it('validates the JWK', () => {
    expect(reasonOf(() => new BundleKey({ ...ecPublic }))).toBe('missing_kid');
    expect(reasonOf(() => new BundleKey({ ...ecPublic, kid: '' }))).toBe('missing_kid');
    expect(reasonOf(() => new BundleKey({ ...ecPrivateJwk, kid: 'k' }))).toBe('private_key_material');
    expect(reasonOf(() => new BundleKey({ kty: 'oct', k: 'c2VjcmV0', kid: 'k' }))).toBe(
      'private_key_material',
    );
    expect(reasonOf(() => new BundleKey({ kty: 'XYZ', kid: 'k' }))).toBe('unsupported_key');
    expect(reasonOf(() => new BundleKey({ ...ecPublic, crv: 'P-192', kid: 'k' }))).toBe('unsupported_key');
    expect(reasonOf(() => new BundleKey({ ...ecPublic, y: undefined, kid: 'k' }))).toBe('invalid_key');
    expect(reasonOf(() => new BundleKey({ ...ecPublic, x: 'not base64url!', kid: 'k' }))).toBe('invalid_key');
    expect(reasonOf(() => new BundleKey({ ...rsaPublic, e: 65537, kid: 'k' } as unknown as JWK))).toBe(
      'invalid_key',
    );
  });
});

describe('JwtBundle', () => {
  it('selects keys by use', () => {
    const bundle = new JwtBundle(TD, [
      new BundleKey({ ...ecPublic, kid: 'jwt' }, 'jwt-svid'),
      new BundleKey({ ...rsaPublic, kid: 'wit' }, 'wit-svid'),
      new BundleKey({ ...edPublic, kid: 'plain' }),
    ]);
    const kids = (keys: readonly BundleKey[]): string[] => keys.map((key) => key.kid);
    expect(kids(bundle.keysFor('jwt-svid', false))).toEqual(['jwt']);
    expect(kids(bundle.keysFor('jwt-svid', true))).toEqual(['jwt', 'plain']);
    expect(kids(bundle.keysFor('wit-svid', false))).toEqual(['wit']);
    expect(kids(bundle.keysFor('wit-svid', true))).toEqual(['wit', 'plain']);
    expect(bundle.keysFor('jwt-svid', true)).toBe(bundle.keysFor('jwt-svid', true));
    expect(bundle.getKey('wit')?.use).toBe('wit-svid');
    expect(bundle.getKey('missing')).toBeUndefined();
    expect(bundle.trustDomain).toBeInstanceOf(TrustDomain);
  });

  it('rejects a duplicate kid', () => {
    expect(
      reasonOf(
        () =>
          new JwtBundle(TD, [
            new BundleKey({ ...ecPublic, kid: 'k' }),
            new BundleKey({ ...rsaPublic, kid: 'k' }),
          ]),
      ),
    ).toBe('duplicate_kid');
    // Unique across the whole bundle, JWT and WIT keys alike.
    const spiffe = {
      keys: [
        { ...ecPublic, kid: 'k', use: 'jwt-svid' },
        { ...rsaPublic, kid: 'k', use: 'wit-svid' },
      ],
    };
    expect(reasonOf(() => JwtBundle.fromSpiffeBundle(TD, spiffe))).toBe('duplicate_kid');
    expect(
      reasonOf(() =>
        JwtBundle.fromJwks(TD, {
          keys: [
            { ...ecPublic, kid: 'k' },
            { ...edPublic, kid: 'k' },
          ],
        }),
      ),
    ).toBe('duplicate_kid');
  });

  it('rejects a JWKS or SPIFFE bundle that carries private key material', () => {
    const leaked = {
      keys: [
        { ...ecPublic, kid: 'a' },
        { ...ecPrivateJwk, kid: 'b' },
      ],
    };
    expect(reasonOf(() => JwtBundle.fromJwks(TD, leaked))).toBe('private_key_material');
    expect(reasonOf(() => JwtBundle.fromJwks(TD, JSON.stringify(leaked)))).toBe('private_key_material');
    const leakedSpiffe = { keys: [{ ...ecPrivateJwk, kid: 'b', use: 'jwt-svid' }] };
    expect(reasonOf(() => JwtBundle.fromSpiffeBundle(TD, leakedSpiffe))).toBe('private_key_material');
    expect(() => JwtBundle.fromJwks(TD, leaked)).toThrow(/^key 1 contains private key material$/);
  });

  it('ignores symmetric, encryption and unknown keys in a JWKS and honours use marks', () => {
    const bundle = JwtBundle.fromJwks(TD, {
      keys: [
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        { ...ecPublic, kid: 'enc', use: 'enc' },
        { ...ecPublic, kid: 'x509', use: 'x509-svid' },
        { kty: 'XYZ', kid: 'future' },
        { ...ecPublic, crv: 'secp256k1', kid: 'k1' },
        { ...ecPublic, kid: 'no-verify', key_ops: ['encrypt'] },
        { ...ecPublic, kid: 'sig', use: 'sig' },
        { ...rsaPublic, kid: 'plain' },
        { ...edPublic, kid: 'wit', use: 'wit-svid' },
      ],
    });
    expect(bundle.keys.map((key) => [key.kid, key.use])).toEqual([
      ['sig', undefined],
      ['plain', undefined],
      ['wit', 'wit-svid'],
    ]);
    const marked = JwtBundle.fromJwks(TD, { keys: [{ ...ecPublic, kid: 'a' }] }, { use: 'jwt-svid' });
    expect(marked.keysFor('jwt-svid', false).map((key) => key.kid)).toEqual(['a']);
    expect(marked.keysFor('wit-svid', true)).toEqual([]);
  });

  it('requires a strict JSON object with a keys array', () => {
    expect(reasonOf(() => JwtBundle.fromJwks(TD, '{}'))).toBe('keys_missing');
    expect(reasonOf(() => JwtBundle.fromJwks(TD, '{"keys":{}}'))).toBe('keys_missing');
    expect(reasonOf(() => JwtBundle.fromJwks(TD, '[]'))).toBe('malformed_json');
    expect(reasonOf(() => JwtBundle.fromJwks(TD, '{"keys":[],"keys":[]}'))).toBe('malformed_json');
    expect(reasonOf(() => JwtBundle.fromSpiffeBundle(TD, '{"keys":[{"kid":"a","kid":"b"}]}'))).toBe(
      'malformed_json',
    );
    expect(reasonOf(() => JwtBundle.fromJwks(TD, [] as unknown as object))).toBe('not_an_object');
    expect(reasonOf(() => JwtBundle.fromJwks(TD, { keys: [null] }))).toBe('invalid_key');
  });

  it('preserves spiffe_sequence above 2^53 exactly', () => {
    const max = JwtBundle.fromSpiffeBundle(TD, '{"keys":[],"spiffe_sequence":18446744073709551615}');
    expect(max.sequence).toBe(18446744073709551615n);
    const justAbove = JwtBundle.fromSpiffeBundle(TD, '{"spiffe_sequence" : 9007199254740993 ,"keys":[]}');
    expect(justAbove.sequence).toBe(9007199254740993n);
    const map = StaticBundleSource.fromBundleMap(
      '{"trust_domains":{"example.org":{"keys":[],"spiffe_sequence":9007199254740995}}}',
    );
    expect(map.getBundle(TrustDomain.parse(TD))?.sequence).toBe(9007199254740995n);
    expect(JwtBundle.fromSpiffeBundle(TD, { keys: [], spiffe_sequence: 12 }).sequence).toBe(12n);
    expect(JwtBundle.fromSpiffeBundle(TD, { keys: [], spiffe_sequence: 2n ** 60n }).sequence).toBe(2n ** 60n);
  });

  it('rejects invalid sequences and refresh hints', () => {
    for (const sequence of ['18446744073709551616', '-1', '1.5', '1e3', '"1"', 'null']) {
      expect(
        reasonOf(() => JwtBundle.fromSpiffeBundle(TD, `{"keys":[],"spiffe_sequence":${sequence}}`)),
      ).toBe('invalid_sequence');
    }
    // A number above 2^53 has already lost digits.
    expect(reasonOf(() => JwtBundle.fromSpiffeBundle(TD, { keys: [], spiffe_sequence: 2 ** 60 }))).toBe(
      'invalid_sequence',
    );
    for (const hint of ['-1', '1.5', '"60"']) {
      expect(
        reasonOf(() => JwtBundle.fromSpiffeBundle(TD, `{"keys":[],"spiffe_refresh_hint":${hint}}`)),
      ).toBe('invalid_refresh_hint');
    }
    expect(reasonOf(() => new JwtBundle(TD, [], { sequence: -1n }))).toBe('invalid_sequence');
  });

  it('round-trips through toJwks', () => {
    const original = JwtBundle.fromSpiffeBundle(TD, {
      spiffe_sequence: 3,
      keys: [
        { ...ecPublic, kid: 'jwt', use: 'jwt-svid', alg: 'ES256' },
        { ...edPublic, kid: 'wit', use: 'wit-svid' },
      ],
    });
    const jwks = original.toJwks();
    expect(jwks.keys).toEqual([
      { ...ecPublic, kid: 'jwt', use: 'jwt-svid', alg: 'ES256' },
      { ...edPublic, kid: 'wit', use: 'wit-svid' },
    ]);
    const again = JwtBundle.fromSpiffeBundle(TD, JSON.stringify(jwks));
    expect(again.toJwks()).toEqual(jwks);
    expect(JwtBundle.fromJwks(TD, jwks).toJwks()).toEqual(jwks);

    const plain = JwtBundle.fromJwks(TD, { keys: [{ ...rsaPublic, kid: 'r', use: 'sig' }] });
    expect(plain.toJwks()).toEqual({ keys: [{ ...rsaPublic, kid: 'r' }] });
    expect(JwtBundle.fromJwks(TD, plain.toJwks()).toJwks()).toEqual(plain.toJwks());
  });
});

describe('StaticBundleSource', () => {
  const bundleText = (kid: string): string =>
    JSON.stringify({ keys: [{ ...ecPublic, kid, use: 'jwt-svid' }] });

  it('looks bundles up by trust domain and returns the same object every time', () => {
    const source = StaticBundleSource.fromSpiffeBundle(TD, bundleText('a'));
    const td = TrustDomain.parse(TD);
    expect(source.getBundle(td)).toBe(source.getBundle(td));
    expect(source.getBundle(TrustDomain.parse('other.org'))).toBeUndefined();
    expect(source.trustDomains().map(String)).toEqual([TD]);
    expect(StaticBundleSource.fromJwks(TD, { keys: [] }).getBundle(td)?.keys).toEqual([]);
  });

  it('rejects two bundles for one trust domain', () => {
    expect(reasonOf(() => new StaticBundleSource([new JwtBundle(TD, []), new JwtBundle(TD, [])]))).toBe(
      'duplicate_trust_domain',
    );
  });

  it('parses bundle maps keyed by name or SPIFFE ID and rejects duplicate keys', () => {
    const map = StaticBundleSource.fromBundleMap(
      `{"trust_domains":{"spiffe://example.org":${bundleText('a')},"other.org":{"keys":[]}}}`,
    );
    expect(map.trustDomains().map(String)).toEqual(['example.org', 'other.org']);
    expect(map.getBundle(TrustDomain.parse(TD))?.getKey('a')).toBeDefined();

    const duplicated = `{"trust_domains":{"example.org":${bundleText('a')},"example.org":${bundleText('b')}}}`;
    expect(reasonOf(() => StaticBundleSource.fromBundleMap(duplicated))).toBe('malformed_json');
    const sameDomainTwice = `{"trust_domains":{"example.org":{"keys":[]},"spiffe://example.org":{"keys":[]}}}`;
    expect(reasonOf(() => StaticBundleSource.fromBundleMap(sameDomainTwice))).toBe('duplicate_trust_domain');
  });

  it('rejects malformed bundle maps', () => {
    expect(reasonOf(() => StaticBundleSource.fromBundleMap('{}'))).toBe('trust_domains_missing');
    expect(reasonOf(() => StaticBundleSource.fromBundleMap({ trust_domains: [] }))).toBe(
      'trust_domains_missing',
    );
    expect(
      reasonOf(() => StaticBundleSource.fromBundleMap('{"trust_domains":{"Example.org":{"keys":[]}}}')),
    ).toBe('invalid_trust_domain');
    expect(
      reasonOf(() =>
        StaticBundleSource.fromBundleMap('{"trust_domains":{"spiffe://example.org/a":{"keys":[]}}}'),
      ),
    ).toBe('invalid_trust_domain');
    expect(reasonOf(() => StaticBundleSource.fromBundleMap('{"trust_domains":{"example.org":"x"}}'))).toBe(
      'not_an_object',
    );
    expect(reasonOf(() => StaticBundleSource.fromBundleMap('{"trust_domains":{"example.org":{}}}'))).toBe(
      'keys_missing',
    );
  });

  it('treats a __proto__ trust domain as data', () => {
    const map = StaticBundleSource.fromBundleMap('{"trust_domains":{"__proto__":{"keys":[]}}}');
    expect(map.trustDomains().map(String)).toEqual(['__proto__']);
    expect(map.getBundle(TrustDomain.parse('constructor'))).toBeUndefined();
  });
});
