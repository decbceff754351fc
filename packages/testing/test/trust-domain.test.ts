import {
  type AuthenticatorOptions,
  createAuthenticator,
  isWimseError,
  JwtBundle,
  TrustDomain,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import { describe, expect, it } from 'vitest';
import { createWptSigner } from '../../client/src/index.js';
import {
  type BadToken,
  combinedBundleSource,
  createTestTrustDomain,
  type IssuedWit,
  type TestAlgorithm,
  type TestTrustDomain,
} from '../src/index.js';

const ORIGIN = 'https://orders.example.org';
const PATH = '/v1/orders';

function authenticatorFor(td: TestTrustDomain, options: Partial<AuthenticatorOptions> = {}) {
  return createAuthenticator({ trust: td.bundleSource, audience: { origins: [ORIGIN] }, ...options });
}

async function proofRequest(issued: IssuedWit, clock?: () => Date) {
  const signer = createWptSigner({
    wit: issued.token,
    privateKey: issued.workloadKey.privateKey,
    ...(clock === undefined ? {} : { clock }),
  });
  const { wit, wpt } = await signer.sign({ method: 'GET', url: `${ORIGIN}${PATH}` });
  return {
    method: 'GET',
    url: PATH,
    headers: { 'workload-identity-token': wit, authorization: `WPT ${wpt}` },
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isWimseError(error)) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('createTestTrustDomain', () => {
  it.each<TestAlgorithm>(['ES256', 'ES384', 'RS256', 'PS256', 'EdDSA'])(
    'issues %s WITs that authenticate with a WPT',
    async (alg) => {
      const td = createTestTrustDomain('example.org', { alg });
      const workloadKey = td.generateWorkloadKey(alg);
      const issued = td.issueWit({ sub: '/ns/prod/sa/billing', key: workloadKey });
      expect(issued.workloadKey).toBe(workloadKey);
      expect(issued.header).toMatchObject({ alg, typ: 'wit+jwt', kid: 'wit-1' });
      const principal: WorkloadPrincipal = await authenticatorFor(td).authenticate(
        await proofRequest(issued),
      );
      expect(principal.id).toBe('spiffe://example.org/ns/prod/sa/billing');
      expect(principal.credential).toBe('wpt');
      expect(principal.credentialForm).toBe('wpt-authorization');
    },
  );

  it('generates an ES256 workload key when none is given', async () => {
    const td = createTestTrustDomain('example.org');
    const issued = td.issueWit();
    expect(issued.workloadKey.alg).toBe('ES256');
    expect(issued.claims.sub).toBe('spiffe://example.org/workload');
    expect((issued.claims.cnf as { jwk: { alg: string } }).jwk.alg).toBe('ES256');
    await expect(authenticatorFor(td).authenticate(await proofRequest(issued))).resolves.toBeDefined();
  });

  it('issues JWT-SVIDs that authenticate as bearer tokens (EdDSA domains sign them with ES256)', async () => {
    for (const alg of ['ES256', 'RS256', 'EdDSA'] as const) {
      const td = createTestTrustDomain('example.org', { alg, issuer: 'https://issuer.example.org' });
      const token = td.issueJwtSvid({ sub: '/ns/prod/sa/billing', aud: `${ORIGIN}${PATH}` });
      const principal = await authenticatorFor(td, {
        issuers: { 'example.org': ['https://issuer.example.org'] },
      }).authenticate({ url: PATH, headers: { authorization: `Bearer ${token}` } });
      expect(principal.credential).toBe('jwt-svid');
      expect(principal.id).toBe('spiffe://example.org/ns/prod/sa/billing');
      expect(principal.claims.iss).toBe('https://issuer.example.org');
    }
  });

  it('refuses EdDSA for JWT-SVIDs and unknown algorithms', () => {
    expect(() => createTestTrustDomain('example.org', { jwtSvidAlg: 'EdDSA' as never })).toThrow(TypeError);
    expect(() => createTestTrustDomain('example.org', { alg: 'HS256' as never })).toThrow(TypeError);
    expect(() => createTestTrustDomain('Not A Domain')).toThrow();
  });

  it('uses the injected clock', async () => {
    const fixed = new Date('2030-01-01T00:00:00Z');
    const td = createTestTrustDomain('example.org', { clock: () => fixed });
    const issued = td.issueWit({ ttl: 60 });
    expect(issued.claims.iat).toBe(fixed.getTime() / 1000);
    expect(issued.claims.exp).toBe(fixed.getTime() / 1000 + 60);
    // The real clock is long before 2030: the authenticator says issued_in_future.
    expect(await codeOf(authenticatorFor(td).authenticate(await proofRequest(issued)))).toBe(
      'issued_in_future',
    );
    const atThatTime = authenticatorFor(td, { clock: () => fixed });
    expect(await codeOf(atThatTime.authenticate(await proofRequest(issued, () => fixed)))).toBe('accepted');
  });

  it('merges claims and header overrides; undefined removes a member', () => {
    const td = createTestTrustDomain('example.org');
    const issued = td.issueWit({
      claims: { jti: undefined, 'example.org/team': 'payments' },
      header: { x: 1 },
    });
    expect(issued.claims).not.toHaveProperty('jti');
    expect(issued.claims['example.org/team']).toBe('payments');
    expect(issued.header.x).toBe(1);
  });
});

const WIT_BAD: Record<Exclude<BadToken, 'no-kid'>, string> = {
  expired: 'token_expired',
  'not-yet-valid': 'token_not_yet_valid',
  'issued-in-future': 'issued_in_future',
  'wrong-typ': 'invalid_type',
  'wrong-key': 'invalid_signature',
  'bad-signature': 'invalid_signature',
  'unknown-kid': 'unknown_key',
  'alg-none': 'credentials_malformed',
  'alg-hs256': 'unsupported_algorithm',
  'no-exp': 'invalid_claims',
  'no-cnf': 'invalid_claims',
  'untrusted-domain': 'untrusted_trust_domain',
};

describe('bad tokens', () => {
  const td = createTestTrustDomain('example.org');
  const authenticator = authenticatorFor(td);

  it.each(Object.entries(WIT_BAD))('WIT bad: %s fails with %s', async (bad, code) => {
    const key = td.generateWorkloadKey();
    const issued = td.issueWit({ key, bad: bad as BadToken });
    // A proof is needed to reach the WIT checks; no-cnf leaves nothing to sign for, so send a
    // proof made for a well-formed WIT of the same key (the WIT fails first either way).
    const request =
      bad === 'no-cnf' || bad === 'alg-none' || bad === 'alg-hs256'
        ? await proofRequest(td.issueWit({ key })).then((r) => ({
            ...r,
            headers: { ...r.headers, 'workload-identity-token': issued.token },
          }))
        : await proofRequest(issued);
    expect(await codeOf(authenticator.authenticate(request))).toBe(code);
  });

  it.each(Object.entries(WIT_BAD).filter(([bad]) => bad !== 'no-cnf'))(
    'JWT-SVID bad: %s fails with %s',
    async (bad, code) => {
      const token = td.issueJwtSvid({ aud: `${ORIGIN}${PATH}`, bad: bad as BadToken });
      const request = { url: PATH, headers: { authorization: `Bearer ${token}` } };
      expect(await codeOf(authenticator.authenticate(request))).toBe(code);
    },
  );

  it('no-kid: JWT-SVIDs always fail; WITs only with several WIT keys or the wit-svid profile', async () => {
    const fresh = createTestTrustDomain('example.org');
    const svid = fresh.issueJwtSvid({ aud: `${ORIGIN}${PATH}`, bad: 'no-kid' });
    expect(
      await codeOf(
        authenticatorFor(fresh).authenticate({ url: PATH, headers: { authorization: `Bearer ${svid}` } }),
      ),
    ).toBe('unknown_key');
    const wit = fresh.issueWit({ bad: 'no-kid' });
    expect(wit.header).not.toHaveProperty('kid');
    expect(await codeOf(authenticatorFor(fresh).authenticate(await proofRequest(wit)))).toBe('accepted');
    expect(
      await codeOf(authenticatorFor(fresh, { witProfile: 'wit-svid' }).authenticate(await proofRequest(wit))),
    ).toBe('unknown_key');
    fresh.rotateKeys();
    expect(
      await codeOf(
        authenticatorFor(fresh).authenticate(await proofRequest(fresh.issueWit({ bad: 'no-kid' }))),
      ),
    ).toBe('unknown_key');
  });
});

describe('rotation', () => {
  it('keeps old tokens valid until the retired keys are dropped, with a new bundle object each time', async () => {
    const td = createTestTrustDomain('example.org');
    const authenticator = authenticatorFor(td);
    const trustDomain = TrustDomain.parse('example.org');
    const first = td.jwtBundle;
    expect(td.bundleSource.getBundle(trustDomain)).toBe(first);
    expect(td.bundleSource.getBundle(trustDomain)).toBe(first); // stable until rotation
    expect(td.bundle.spiffe_sequence).toBe(1);
    const oldWit = td.issueWit();
    const oldSvid = td.issueJwtSvid({ aud: `${ORIGIN}${PATH}` });
    expect(await codeOf(authenticator.authenticate(await proofRequest(oldWit)))).toBe('accepted');

    td.rotateKeys();
    const second = td.bundleSource.getBundle(trustDomain);
    expect(second).not.toBe(first);
    expect(second).toBe(td.jwtBundle);
    expect(td.bundle.spiffe_sequence).toBe(2);
    expect(td.bundle.keys.map((key) => `${key.kid}:${key.use}`)).toEqual([
      'wit-1:wit-svid',
      'jwt-1:jwt-svid',
      'wit-2:wit-svid',
      'jwt-2:jwt-svid',
    ]);
    const newWit = td.issueWit();
    expect(newWit.header.kid).toBe('wit-2');
    expect(await codeOf(authenticator.authenticate(await proofRequest(oldWit)))).toBe('accepted');
    expect(await codeOf(authenticator.authenticate(await proofRequest(newWit)))).toBe('accepted');
    const bearer = (token: string) => ({ url: PATH, headers: { authorization: `Bearer ${token}` } });
    expect(await codeOf(authenticator.authenticate(bearer(oldSvid)))).toBe('accepted');

    td.dropRetiredKeys();
    expect(td.bundleSource.getBundle(trustDomain)).not.toBe(second);
    expect(td.bundle.spiffe_sequence).toBe(3);
    expect(td.bundle.keys.map((key) => key.kid)).toEqual(['wit-2', 'jwt-2']);
    // The authenticator's verified-token cache is dropped with the bundle object: old tokens fail now.
    expect(await codeOf(authenticator.authenticate(await proofRequest(oldWit)))).toBe('unknown_key');
    expect(await codeOf(authenticator.authenticate(bearer(oldSvid)))).toBe('unknown_key');
    expect(await codeOf(authenticator.authenticate(await proofRequest(newWit)))).toBe('accepted');
    expect(
      await codeOf(authenticator.authenticate(bearer(td.issueJwtSvid({ aud: `${ORIGIN}${PATH}` })))),
    ).toBe('accepted');
    const seq = td.sequence;
    td.dropRetiredKeys(); // nothing retired: no change
    expect(td.sequence).toBe(seq);
  });
});

describe('published forms', () => {
  it('bundle is a SPIFFE bundle document and jwks a plain JWK Set, both parsed by the core', () => {
    const td = createTestTrustDomain('example.org', { refreshHintSeconds: 60 });
    const doc = td.bundle;
    expect(doc.spiffe_refresh_hint).toBe(60);
    const bundle = JwtBundle.fromSpiffeBundle('example.org', JSON.stringify(doc));
    expect(bundle.sequence).toBe(1n);
    expect(bundle.refreshHintSeconds).toBe(60);
    expect(bundle.keys.map((key) => [key.kid, key.use])).toEqual([
      ['wit-1', 'wit-svid'],
      ['jwt-1', 'jwt-svid'],
    ]);
    for (const key of doc.keys) expect(key).not.toHaveProperty('d');
    const fromJwks = JwtBundle.fromJwks('example.org', td.jwks);
    expect(fromJwks.keys.map((key) => [key.kid, key.use])).toEqual([
      ['wit-1', undefined],
      ['jwt-1', undefined],
    ]);
    doc.keys.length = 0; // a copy: mutating it does not touch the trust domain
    expect(td.bundle.keys).toHaveLength(2);
  });

  it('combinedBundleSource trusts several domains', async () => {
    const a = createTestTrustDomain('a.example');
    const b = createTestTrustDomain('b.example');
    const authenticator = createAuthenticator({
      trust: combinedBundleSource(a, b),
      audience: { origins: [ORIGIN] },
    });
    expect((await authenticator.authenticate(await proofRequest(b.issueWit()))).trustDomain).toBe(
      'b.example',
    );
    expect((await authenticator.authenticate(await proofRequest(a.issueWit()))).trustDomain).toBe(
      'a.example',
    );
    expect(() => combinedBundleSource(a, a)).toThrow(TypeError);
  });
});
