// The OIDC discovery test server, on its own and behind the core's oidcDiscoveryBundleSource.
import { createAuthenticator, oidcDiscoveryBundleSource, TrustDomain } from '@wimse-auth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestTrustDomain, type OidcDiscoveryServer, serveOidcDiscovery } from '../src/index.js';

let issuer: OidcDiscoveryServer | undefined;
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await issuer?.close();
  issuer = undefined;
});

describe('serveOidcDiscovery', () => {
  it('publishes a discovery document naming itself and its jwks_uri, and the keys with an ETag', async () => {
    const td = createTestTrustDomain('example.org');
    issuer = await serveOidcDiscovery(td, { issuerPath: '/tenant-a' });
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tenant-a$/);

    const discovery = (await (await fetch(issuer.discoveryUrl)).json()) as Record<string, unknown>;
    expect(discovery.issuer).toBe(issuer.issuer);
    expect(discovery.jwks_uri).toBe(issuer.jwksUri);

    const keys = await fetch(issuer.jwksUri);
    expect(keys.headers.get('cache-control')).toBe('max-age=300');
    expect(await keys.json()).toEqual(td.jwks);
    const etag = keys.headers.get('etag') ?? '';
    expect((await fetch(issuer.jwksUri, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect(issuer.requests).toEqual({ discovery: 1, jwks: 2 });
    expect((await fetch(`${issuer.issuer}/elsewhere`)).status).toBe(404);
  });

  it('verifies JWT-SVIDs through oidcDiscoveryBundleSource, through rotation, faults and a wrong issuer', async () => {
    const td = createTestTrustDomain('example.org');
    issuer = await serveOidcDiscovery(td);
    const trust = oidcDiscoveryBundleSource({
      trustDomain: 'example.org',
      issuer: issuer.issuer,
      allowInsecureHttp: true,
      requestTimeoutMs: 300,
    });
    closers.push(() => trust.close());
    const authenticator = createAuthenticator({
      trust,
      audience: { values: ['spiffe://example.org/api'] },
      accept: ['jwt-svid'],
    });
    const request = () => ({
      headers: {
        authorization: `Bearer ${td.issueJwtSvid({ sub: '/ns/a', aud: 'spiffe://example.org/api' })}`,
      },
    });
    expect((await authenticator.authenticate(request())).trustDomain).toBe('example.org');

    // A key published after the last poll is picked up on first use.
    td.rotateKeys();
    expect((await authenticator.authenticate(request())).trustDomain).toBe('example.org');

    issuer.setFault('jwks', 'hang');
    await trust.refresh();
    expect(trust.status.lastFailure).toBe('timeout');
    expect(await trust.getBundle(TrustDomain.parse('example.org'))).toBeDefined();

    issuer.setFault('jwks', undefined);
    issuer.setDiscoveryOverrides({ issuer: 'https://someone-else.example' });
    await trust.refresh();
    expect(trust.status.lastFailure).toBe('issuer_mismatch');

    issuer.setDiscoveryOverrides(undefined);
    await trust.refresh();
    expect(trust.status.lastFailure).toBeUndefined();
  });
});
