import { createHash, generateKeyPairSync, webcrypto } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createTestTrustDomain } from '../../testing/src/index.js';
import { createWptSigner, MAX_PROOF_TTL_SECONDS, proofAudience } from '../src/index.js';

const td = createTestTrustDomain('example.org');

function decode(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header!, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(claims!, 'base64url').toString()),
  };
}

const sha = (value: string) => createHash('sha256').update(value).digest('base64url');

describe('createWptSigner', () => {
  it('produces the WPT claims of wpt-02', async () => {
    const issued = td.issueWit();
    const now = new Date('2026-11-23T12:00:00Z');
    const signer = createWptSigner({
      wit: issued.token,
      privateKey: issued.workloadKey.privateKey,
      clock: () => now,
    });
    const signed = await signer.sign({ method: 'GET', url: 'https://Svc.Example.org:443/a/b?q=1#frag' });
    const { header, claims } = decode(signed.wpt);
    expect(header).toEqual({ alg: 'ES256', typ: 'wpt+jwt' });
    const t = now.getTime() / 1000;
    expect(claims).toEqual({
      aud: 'https://svc.example.org/a/b',
      exp: t + 60,
      iat: t,
      jti: expect.stringMatching(/^[\w-]{22}$/),
      wth: sha(issued.token),
    });
    expect(signed.wit).toBe(issued.token);
    expect(signed.expiresAt).toEqual(new Date((t + 60) * 1000));
    const again = decode((await signer.sign({ url: 'https://svc.example.org/a' })).wpt).claims;
    expect(again.jti).not.toBe(claims.jti);
  });

  it('adds ath, tth and oth only for tokens sent; audience and ttl per call; iat optional', async () => {
    const issued = td.issueWit();
    const signer = createWptSigner({
      wit: issued.token,
      privateKey: issued.workloadKey.privateKey,
      ttlSeconds: 120,
      issuedAt: false,
    });
    const { claims } = decode(
      (
        await signer.sign({
          url: 'https://svc.example.org/x',
          accessToken: 'at',
          txnToken: 'txn',
          otherTokens: { 'X-Context': '  abc.def.ghi ' },
          audience: 'spiffe://example.org/svc',
          ttlSeconds: 10,
        })
      ).wpt,
    );
    expect(claims).toMatchObject({
      aud: 'spiffe://example.org/svc',
      ath: sha('at'),
      tth: sha('txn'),
      oth: { 'x-context': sha('abc.def.ghi') },
    });
    expect(claims).not.toHaveProperty('iat');
    const plain = decode(
      (await signer.sign({ url: 'https://svc.example.org/x', otherTokens: {} })).wpt,
    ).claims;
    expect(Object.keys(plain).sort()).toEqual(['aud', 'exp', 'jti', 'wth']);
  });

  it(`refuses lifetimes above ${MAX_PROOF_TTL_SECONDS} s at creation and per call`, async () => {
    const issued = td.issueWit();
    const base = { wit: issued.token, privateKey: issued.workloadKey.privateKey };
    expect(() => createWptSigner({ ...base, ttlSeconds: 301 })).toThrow(RangeError);
    expect(() => createWptSigner({ ...base, ttlSeconds: 0 })).toThrow(RangeError);
    const signer = createWptSigner({ ...base, ttlSeconds: 300 });
    await expect(signer.sign({ url: 'https://a.example/', ttlSeconds: 301 })).rejects.toThrow(RangeError);
  });

  it('takes alg from cnf.jwk.alg and refuses a different alg or a key the WIT does not confirm', () => {
    const issued = td.issueWit({ key: td.generateWorkloadKey('EdDSA') });
    const privateKey = issued.workloadKey.privateKey;
    expect(() => createWptSigner({ wit: issued.token, privateKey, alg: 'EdDSA' })).not.toThrow();
    expect(() => createWptSigner({ wit: issued.token, privateKey, alg: 'ES256' })).toThrow(/differs/);
    const other = td.generateWorkloadKey('EdDSA');
    expect(() => createWptSigner({ wit: issued.token, privateKey: other.privateKey })).toThrow(/cnf\.jwk/);
    const ec = td.generateWorkloadKey('ES256');
    expect(() => createWptSigner({ wit: issued.token, privateKey: ec.privateKey })).toThrow(/cannot sign/);
    expect(() => createWptSigner({ wit: 'not-a-jwt', privateKey })).toThrow(TypeError);
    expect(() => createWptSigner({ wit: issued.token, privateKey: issued.workloadKey.publicKey })).toThrow(
      /private/,
    );
  });

  it('needs alg for a WIT without cnf.jwk.alg (pre-s2s-04)', async () => {
    const key = td.generateWorkloadKey('ES256');
    const { alg: _alg, ...jwk } = key.publicJwk as Record<string, unknown>;
    const wit = td.issueWit({ key, claims: { cnf: { jwk } } }).token;
    expect(() => createWptSigner({ wit, privateKey: key.privateKey })).toThrow(/pass alg/);
    const signer = createWptSigner({ wit, privateKey: key.privateKey, alg: 'ES256' });
    expect(decode((await signer.sign({ url: 'https://a.example/' })).wpt).header.alg).toBe('ES256');
  });

  it('accepts the private key as JWK or WebCrypto CryptoKey, and never puts tokens in errors', async () => {
    const key = td.generateWorkloadKey('ES384');
    const wit = td.issueWit({ key }).token;
    const jwk = key.privateKey.export({ format: 'jwk' });
    await expect(
      createWptSigner({ wit, privateKey: jwk }).sign({ url: 'https://a.example/' }),
    ).resolves.toBeDefined();
    const cryptoKey = await webcrypto.subtle.importKey(
      'jwk',
      jwk,
      { name: 'ECDSA', namedCurve: 'P-384' },
      true,
      ['sign'],
    );
    await expect(
      createWptSigner({ wit, privateKey: cryptoKey }).sign({ url: 'https://a.example/' }),
    ).resolves.toBeDefined();
    const { privateKey: wrong } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    try {
      createWptSigner({ wit, privateKey: wrong });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(wit.split('.')[1]!.slice(0, 20));
    }
  });

  it('a WIT provider is checked on each sign', async () => {
    const key = td.generateWorkloadKey();
    const signer = createWptSigner({ wit: async () => td.issueWit().token, privateKey: key.privateKey });
    await expect(signer.sign({ url: 'https://a.example/' })).rejects.toThrow(/cnf\.jwk/);
  });

  it('proofAudience drops query and fragment and default ports', () => {
    expect(proofAudience('http://127.0.0.1:8080/a%20b?x#y')).toBe('http://127.0.0.1:8080/a%20b');
    expect(proofAudience(new URL('https://example.org:443'))).toBe('https://example.org/');
  });
});
