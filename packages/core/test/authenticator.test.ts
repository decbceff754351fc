import { describe, expect, it } from 'vitest';
import {
  type BundleSource,
  createAuthenticator,
  JwtBundle,
  type ReplayStore,
  StaticBundleSource,
  TrustUnavailableError,
} from '../src/index.js';
import { CALLER, createWorld, NOW, ORIGIN, sha256 } from './support/world.js';

const world = createWorld();

describe('createAuthenticator option validation', () => {
  const trust = world.trust;
  it('rejects an empty audience configuration', () => {
    expect(() => createAuthenticator({ trust, audience: {} })).toThrow(/audience configuration is empty/);
    expect(() => createAuthenticator({ trust, audience: { origins: [] } })).toThrow(/empty/);
    expect(() => createAuthenticator({ trust } as never)).toThrow(/audience configuration is required/);
  });
  it('rejects a missing trust source', () => {
    expect(() => createAuthenticator({ audience: { origins: [ORIGIN] } } as never)).toThrow(/BundleSource/);
  });
  it('rejects unknown credential forms and an empty accept list', () => {
    expect(() => world.authenticator({ accept: ['basic' as never] })).toThrow(/unknown credential form/);
    expect(() => world.authenticator({ accept: [] })).toThrow(/at least one/);
  });
  it('rejects origins with paths, queries or other schemes', () => {
    for (const origin of [
      'https://a.example/path',
      'ftp://a.example',
      'https://u:p@a.example',
      'not a url',
    ]) {
      expect(() => createAuthenticator({ trust, audience: { origins: [origin] } })).toThrow(TypeError);
    }
  });
  it('rejects disallowed algorithm restrictions and bad numbers', () => {
    expect(() => world.authenticator({ jwtSvidAlgorithms: ['HS256'] })).toThrow(/not allowed/);
    expect(() => world.authenticator({ witProfile: 'wit-svid', witAlgorithms: ['EdDSA'] })).toThrow(
      /not allowed/,
    );
    expect(() => world.authenticator({ maxProofLifetime: 0 })).toThrow(/maxProofLifetime/);
    expect(() => world.authenticator({ clockTolerance: -1 })).toThrow(/clockTolerance/);
  });
});

describe('credential forms', () => {
  it('accepts WPT in Authorization, in Workload-Proof-Token, and bearer JWT-SVIDs', async () => {
    const authenticator = world.authenticator();
    const viaAuthorization = await authenticator.authenticate(world.proofRequest());
    expect(viaAuthorization).toMatchObject({
      id: CALLER,
      credential: 'wpt',
      credentialForm: 'wpt-authorization',
    });
    expect(viaAuthorization.spiffeId?.trustDomain.name).toBe('example.org');
    expect(viaAuthorization.trustDomain).toBe('example.org');
    expect(Object.isFrozen(viaAuthorization)).toBe(true);

    const wit = world.mintWit();
    const viaHeader = await authenticator.authenticate({
      url: '/orders?x=1',
      headers: { 'workload-identity-token': wit, 'workload-proof-token': world.mintWpt(wit) },
    });
    expect(viaHeader.credentialForm).toBe('wpt-header');

    const svid = await authenticator.authenticate({
      url: '/orders',
      headers: { authorization: `Bearer ${world.mintJwtSvid()}` },
    });
    expect(svid).toMatchObject({ id: CALLER, credential: 'jwt-svid', credentialForm: 'jwt-svid' });
    expect(svid.expiresAt.getTime()).toBe((NOW + 300) * 1000);
  });

  it('reads the Authorization scheme case-insensitively and tolerates extra spaces', async () => {
    const authenticator = world.authenticator();
    const wit = world.mintWit();
    await authenticator.authenticate({
      url: '/orders',
      headers: { 'workload-identity-token': wit, authorization: `wpt  ${world.mintWpt(wit)}` },
    });
    await authenticator.authenticate({
      url: '/orders',
      headers: { authorization: `BEARER ${world.mintJwtSvid()}` },
    });
  });

  it('reports credentials_missing when nothing usable is present', async () => {
    const authenticator = world.authenticator();
    await expect(authenticator.authenticate({ url: '/', headers: {} })).rejects.toMatchObject({
      code: 'credentials_missing',
    });
    await expect(
      authenticator.authenticate({ url: '/', headers: { authorization: 'Basic dTpw' } }),
    ).rejects.toMatchObject({
      code: 'credentials_missing',
    });
  });

  it('honours the accept list without downgrading', async () => {
    const wptOnly = world.authenticator({ accept: ['wpt-authorization'] });
    await expect(
      wptOnly.authenticate({ url: '/orders', headers: { authorization: `Bearer ${world.mintJwtSvid()}` } }),
    ).rejects.toMatchObject({ code: 'credentials_missing' });
    const wit = world.mintWit();
    await expect(
      wptOnly.authenticate({
        url: '/orders',
        headers: { 'workload-identity-token': wit, 'workload-proof-token': world.mintWpt(wit) },
      }),
    ).rejects.toMatchObject({ code: 'credentials_malformed', credential: 'wpt-header' });
    expect(wptOnly.challenges()).toEqual(['WPT']);
  });

  it('reads Fetch Headers objects', async () => {
    const wit = world.mintWit();
    const headers = new Headers({
      'Workload-Identity-Token': wit,
      Authorization: `WPT ${world.mintWpt(wit)}`,
    });
    const principal = await world.authenticator().authenticate({ url: `${ORIGIN}/orders`, headers });
    expect(principal.id).toBe(CALLER);
  });

  it('binds Txn-Token (tth) and configured other tokens (oth)', async () => {
    const authenticator = world.authenticator({ otherTokenHeaders: ['x-custom-context'] });
    const wit = world.mintWit();
    const txn = 'txn.token.value';
    const other = 'abc.def.ghi';
    const headers = (wpt: string) => ({
      'workload-identity-token': wit,
      authorization: `WPT ${wpt}`,
      'txn-token': txn,
      'x-custom-context': `  ${other} `,
    });
    await authenticator.authenticate({
      url: '/orders',
      headers: headers(world.mintWpt(wit, { tth: sha256(txn), oth: { 'x-custom-context': sha256(other) } })),
    });
    await expect(
      authenticator.authenticate({
        url: '/orders',
        headers: headers(world.mintWpt(wit, { tth: sha256(txn) })),
      }),
    ).rejects.toMatchObject({ code: 'token_binding_mismatch' });
    await expect(
      authenticator.authenticate({
        url: '/orders',
        headers: headers(
          world.mintWpt(wit, {
            tth: sha256(txn),
            oth: { 'x-custom-context': sha256(other), 'x-unknown': 'AAAA' },
          }),
        ),
      }),
    ).rejects.toMatchObject({ code: 'token_binding_mismatch' });
    await expect(
      authenticator.authenticate({
        url: '/orders',
        headers: headers(world.mintWpt(wit, { oth: { 'x-custom-context': sha256(other) } })),
      }),
    ).rejects.toMatchObject({ code: 'token_binding_mismatch' });
  });
});

describe('audience configuration', () => {
  it('origins: origin + path, default port and case normalised, query ignored', async () => {
    const authenticator = createAuthenticator({
      trust: world.trust,
      clock: world.clock,
      audience: { origins: ['https://API.example.org:443'] },
    });
    const wit = world.mintWit();
    await authenticator.authenticate(
      world.proofRequest(
        wit,
        world.mintWpt(wit, { aud: 'https://api.example.org/orders' }),
        '/orders?page=2',
      ),
    );
    await authenticator.authenticate(
      world.proofRequest(wit, world.mintWpt(wit, { aud: 'HTTPS://api.EXAMPLE.org:443/orders' })),
    );
    await expect(
      authenticator.authenticate(
        world.proofRequest(wit, world.mintWpt(wit, { aud: 'https://api.example.org/Orders' })),
      ),
    ).rejects.toMatchObject({ code: 'audience_mismatch' });
    await expect(
      authenticator.authenticate(
        world.proofRequest(wit, world.mintWpt(wit, { aud: 'http://api.example.org/orders' })),
      ),
    ).rejects.toMatchObject({ code: 'audience_mismatch' });
  });

  it('never trusts Host or X-Forwarded-Host unless told to', async () => {
    const wit = world.mintWit();
    const forged = (wpt: string) => ({
      url: '/orders',
      headers: {
        'workload-identity-token': wit,
        authorization: `WPT ${wpt}`,
        host: 'evil.example',
        'x-forwarded-host': 'evil.example',
        'x-forwarded-proto': 'https',
      },
    });
    const strict = world.authenticator();
    await expect(
      strict.authenticate(forged(world.mintWpt(wit, { aud: 'https://evil.example/orders' }))),
    ).rejects.toMatchObject({
      code: 'audience_mismatch',
    });
    const behindProxy = world.authenticator({ audience: { origins: [ORIGIN], trustProxyHeaders: true } });
    await behindProxy.authenticate(forged(world.mintWpt(wit, { aud: 'https://evil.example/orders' })));
  });

  it('values and resolve', async () => {
    const authenticator = world.authenticator({
      audience: {
        values: ['spiffe://example.org/ns/prod/sa/orders'],
        resolve: (req) => `https://internal${req.url}`,
      },
    });
    const wit = world.mintWit();
    await authenticator.authenticate(
      world.proofRequest(wit, world.mintWpt(wit, { aud: 'spiffe://example.org/ns/prod/sa/orders' })),
    );
    await authenticator.authenticate(
      world.proofRequest(wit, world.mintWpt(wit, { aud: 'https://internal/orders' })),
    );
    await authenticator.authenticate({
      url: '/x',
      headers: {
        authorization: `Bearer ${world.mintJwtSvid({ aud: 'spiffe://example.org/ns/prod/sa/orders' })}`,
      },
    });
  });

  it('re-checks a cached JWT-SVID against each request when its audience depends on the request', async () => {
    const authenticator = world.authenticator({
      audience: { origins: [ORIGIN], resolve: (req) => (req.url === '/tenant-a' ? 'tenant-a' : undefined) },
    });
    const connection = {};
    const bearer = (token: string, url: string) => ({
      url,
      headers: { authorization: `Bearer ${token}` },
      connection,
    });
    // Names this service's origin plus a path: acceptable on that path only.
    const pathBound = world.mintJwtSvid({ aud: `${ORIGIN}/orders` });
    await authenticator.authenticate(bearer(pathBound, '/orders'));
    await authenticator.authenticate(bearer(pathBound, '/orders'));
    await expect(authenticator.authenticate(bearer(pathBound, '/refunds'))).rejects.toMatchObject({
      code: 'audience_mismatch',
    });
    // Acceptable through resolve() for one request only.
    const resolved = world.mintJwtSvid({ aud: 'tenant-a' });
    await authenticator.authenticate(bearer(resolved, '/tenant-a'));
    await expect(authenticator.authenticate(bearer(resolved, '/tenant-b'))).rejects.toMatchObject({
      code: 'audience_mismatch',
    });
    await authenticator.authenticate(bearer(resolved, '/tenant-a'));
    // The bare origin: acceptable on every path.
    const anyPath = world.mintJwtSvid({ aud: ORIGIN });
    await authenticator.authenticate(bearer(anyPath, '/orders'));
    await authenticator.authenticate(bearer(anyPath, '/refunds'));
  });

  it('refuses a bearer token holding whitespace as malformed, cached or not', async () => {
    const authenticator = world.authenticator();
    const svid = world.mintJwtSvid();
    const connection = {};
    await authenticator.authenticate({
      url: '/orders',
      headers: { authorization: `Bearer ${svid}` },
      connection,
    });
    for (const token of [`${svid} x`, `${svid}\tx`, `${svid.slice(0, 10)}\u00a0${svid.slice(11)}`]) {
      for (const request of [
        { url: '/orders', headers: { authorization: `Bearer ${token}` }, connection },
        { url: '/orders', headers: { authorization: `Bearer ${token}` } },
      ]) {
        await expect(authenticator.authenticate(request)).rejects.toMatchObject({
          code: 'credentials_malformed',
          status: 401,
        });
      }
    }
  });

  it('JWT-SVIDs may name the bare origin', async () => {
    const authenticator = world.authenticator();
    await authenticator.authenticate({
      url: '/anything',
      headers: { authorization: `Bearer ${world.mintJwtSvid({ aud: ORIGIN })}` },
    });
  });
});

describe('trust and caches', () => {
  // With a connection the repeat is answered by the per-connection memo, without one by the
  // hashed cache: both must honour bundle changes and time.
  for (const [path, connection] of [
    ['hashed cache', undefined],
    ['per-connection memo', {}],
  ] as const) {
    it(`drops cached WITs and JWT-SVIDs when the bundle changes (${path})`, async () => {
      let current = world.bundle;
      const source: BundleSource = { getBundle: (td) => (td.name === 'example.org' ? current : undefined) };
      const authenticator = world.authenticator({ trust: source });
      const wit = world.mintWit();
      const svid = world.mintJwtSvid();
      const bearer = () => ({ url: '/orders', headers: { authorization: `Bearer ${svid}` }, connection });
      await authenticator.authenticate({ ...world.proofRequest(wit), connection });
      await authenticator.authenticate(bearer());
      await authenticator.authenticate(bearer());
      // Rotate: the new bundle no longer holds the keys that signed these tokens.
      current = JwtBundle.fromSpiffeBundle('example.org', { keys: [] });
      await expect(
        authenticator.authenticate({ ...world.proofRequest(wit), connection }),
      ).rejects.toMatchObject({
        code: 'unknown_key',
      });
      await expect(authenticator.authenticate(bearer())).rejects.toMatchObject({ code: 'unknown_key' });
    });

    it(`re-checks expiry on cache hits (${path})`, async () => {
      let now = NOW;
      const authenticator = world.authenticator({ clock: () => new Date(now * 1000), clockTolerance: 0 });
      const wit = world.mintWit({ exp: NOW + 100 });
      const svid = world.mintJwtSvid({ exp: NOW + 100 });
      const bearer = { url: '/orders', headers: { authorization: `Bearer ${svid}` }, connection };
      await authenticator.authenticate({ ...world.proofRequest(wit), connection });
      await authenticator.authenticate(bearer);
      await authenticator.authenticate(bearer);
      now = NOW + 101;
      await expect(
        authenticator.authenticate({
          ...world.proofRequest(wit, world.mintWpt(wit, { exp: NOW + 150 })),
          connection,
        }),
      ).rejects.toMatchObject({ code: 'token_expired' });
      await expect(authenticator.authenticate(bearer)).rejects.toMatchObject({ code: 'token_expired' });
    });
  }

  it('fails closed with 503 when the trust source or replay store fails', async () => {
    const broken: BundleSource = {
      getBundle: () => {
        throw new Error('agent socket gone');
      },
    };
    await expect(
      world.authenticator({ trust: broken }).authenticate(world.proofRequest()),
    ).rejects.toMatchObject({
      code: 'trust_unavailable',
      status: 503,
    });
    const unavailable: BundleSource = {
      getBundle: () => Promise.reject(new TrustUnavailableError('no bundle yet')),
    };
    await expect(
      world.authenticator({ trust: unavailable }).authenticate(world.proofRequest()),
    ).rejects.toMatchObject({
      code: 'trust_unavailable',
    });
    const store: ReplayStore = { checkAndRemember: () => Promise.reject(new Error('ECONNREFUSED')) };
    await expect(
      world.authenticator({ replayStore: store }).authenticate(world.proofRequest()),
    ).rejects.toMatchObject({
      code: 'trust_unavailable',
      status: 503,
    });
  });

  it('untrusted trust domains are 401, not 503', async () => {
    const empty = new StaticBundleSource([]);
    await expect(
      world.authenticator({ trust: empty }).authenticate(world.proofRequest()),
    ).rejects.toMatchObject({
      code: 'untrusted_trust_domain',
      status: 401,
    });
  });

  it('remembers proofs per caller until exp + tolerance', async () => {
    const calls: Array<[string, number]> = [];
    const store: ReplayStore = {
      checkAndRemember: async (key, expiresAt) => {
        calls.push([key, expiresAt]);
        return true;
      },
    };
    const wit = world.mintWit();
    await world
      .authenticator({ replayStore: store })
      .authenticate(world.proofRequest(wit, world.mintWpt(wit, { exp: NOW + 45 })));
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(calls[0]![1]).toBe((NOW + 45 + 30) * 1000);
  });
});

describe('WIT-SVID profile', () => {
  it('requires kid, forbids aud and EdDSA', async () => {
    const authenticator = world.authenticator({ witProfile: 'wit-svid' });
    await authenticator.authenticate(world.proofRequest());
    await expect(
      authenticator.authenticate(world.proofRequest(world.mintWit({}, { kid: undefined }))),
    ).rejects.toMatchObject({
      code: 'unknown_key',
    });
    await expect(
      authenticator.authenticate(world.proofRequest(world.mintWit({ aud: 'x' }))),
    ).rejects.toMatchObject({
      code: 'invalid_claims',
    });
    await expect(
      authenticator.authenticate(world.proofRequest(world.mintWit({ sub: 'wimse://example.org/a' }))),
    ).rejects.toMatchObject({
      code: 'invalid_subject',
    });
    const ed = createWorld('EdDSA', 'EdDSA');
    await ed.authenticator().authenticate(ed.proofRequest());
    await expect(
      ed.authenticator({ witProfile: 'wit-svid' }).authenticate(ed.proofRequest()),
    ).rejects.toMatchObject({
      code: 'unsupported_algorithm',
    });
  });

  it('without kid, the generic profile uses the single WIT key', async () => {
    await world.authenticator().authenticate(world.proofRequest(world.mintWit({}, { kid: undefined })));
  });
});

describe('issuer policy', () => {
  it('rejects an iss outside the configured list', async () => {
    const authenticator = world.authenticator({ issuers: { 'example.org': ['https://issuer.example.org'] } });
    await authenticator.authenticate(
      world.proofRequest(world.mintWit({ iss: 'https://issuer.example.org' })),
    );
    await expect(
      authenticator.authenticate(world.proofRequest(world.mintWit({ iss: 'https://evil' }))),
    ).rejects.toMatchObject({
      code: 'issuer_mismatch',
    });
    await expect(authenticator.authenticate(world.proofRequest(world.mintWit()))).rejects.toMatchObject({
      code: 'issuer_mismatch',
    });
  });
});

describe('authenticateIfPresent', () => {
  it('resolves undefined without credentials but still rejects invalid ones', async () => {
    const authenticator = world.authenticator();
    expect(await authenticator.authenticateIfPresent({ url: '/orders', headers: {} })).toBeUndefined();
    expect((await authenticator.authenticateIfPresent(world.proofRequest()))?.id).toBe(CALLER);
    await expect(
      authenticator.authenticateIfPresent({ url: '/orders', headers: { authorization: 'Bearer a.b.c' } }),
    ).rejects.toMatchObject({ code: 'credentials_malformed' });
  });
});
