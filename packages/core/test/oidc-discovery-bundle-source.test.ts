// oidcDiscoveryBundleSource against a real HTTPS OIDC issuer on 127.0.0.1: discovery,
// issuer and jwks_uri validation, ETag revalidation, rotation, outage and recovery.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createAuthenticator,
  isWimseError,
  type OidcDiscoveryBundleSource,
  type OidcDiscoveryBundleSourceOptions,
  oidcDiscoveryBundleSource,
  TrustDomain,
  TrustUnavailableError,
} from '../src/index.js';
import {
  AUDIENCE,
  bearer,
  json,
  jwks,
  jwtSvid,
  ManualClock,
  makeTlsMaterial,
  type SigningKey,
  signingKey,
  startTrustServer,
  type TlsMaterial,
  TOKEN_NOW,
  type TrustServer,
  trustingTransport,
  withEtag,
} from './support/remote-trust-server.js';

// Real servers and TLS on a loaded machine: generous, still bounded.
vi.setConfig({ testTimeout: 20_000 });

const TD = TrustDomain.parse('example.org');
const CALLER = 'spiffe://example.org/ns/prod/sa/billing';
const DISCOVERY = '/.well-known/openid-configuration';

let tls: TlsMaterial;
const servers: TrustServer[] = [];
const sources: OidcDiscoveryBundleSource[] = [];

beforeAll(async () => {
  tls = await makeTlsMaterial();
}, 30_000);

afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

/** An issuer on its own server: discovery at the well-known path, keys at /keys. */
async function issuerServer(keys: () => readonly SigningKey[]): Promise<TrustServer> {
  const server = await startTrustServer(tls);
  servers.push(server);
  server.route(DISCOVERY, json({ issuer: server.origin, jwks_uri: `${server.origin}/keys` }));
  server.route(
    '/keys',
    withEtag(() => jwks(keys())),
  );
  return server;
}

function source(
  issuer: string,
  options: Partial<OidcDiscoveryBundleSourceOptions> = {},
): OidcDiscoveryBundleSource {
  const created = oidcDiscoveryBundleSource({
    trustDomain: 'example.org',
    issuer,
    ...trustingTransport(tls),
    ...options,
  });
  sources.push(created);
  return created;
}

function authenticatorOver(trust: OidcDiscoveryBundleSource) {
  return createAuthenticator({
    trust,
    audience: { values: [AUDIENCE] },
    accept: ['jwt-svid'],
    clock: () => new Date(TOKEN_NOW * 1000),
  });
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isWimseError(error)) return error.code;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('oidcDiscoveryBundleSource', () => {
  it('refuses a non-https issuer unless explicitly allowed', () => {
    expect(() =>
      oidcDiscoveryBundleSource({ trustDomain: 'example.org', issuer: 'http://127.0.0.1:1' }),
    ).toThrow(/https/);
    expect(() =>
      oidcDiscoveryBundleSource({ trustDomain: 'example.org', issuer: 'https://x.example/?q=1' }),
    ).toThrow(/query/);
  });

  it('resolves jwks_uri through discovery and verifies JWT-SVIDs with the plain JWK Set', async () => {
    const key = signingKey('k1');
    const server = await issuerServer(() => [key]);
    const trust = source(server.origin);
    await trust.ready;
    expect(server.count(DISCOVERY)).toBe(1);
    expect(server.count('/keys')).toBe(1);
    const bundle = await trust.getBundle(TD);
    expect(bundle?.getKey('k1')?.use).toBeUndefined();
    expect(await trust.getBundle(TrustDomain.parse('other.org'))).toBeUndefined();
    expect((await authenticatorOver(trust).authenticate(bearer(jwtSvid(key, CALLER)))).id).toBe(CALLER);
  });

  it('marks the keys with `use` when configured, so allowUnmarkedKeys: false still works', async () => {
    const key = signingKey('k1');
    const server = await issuerServer(() => [key]);
    const trust = source(server.origin, { use: 'jwt-svid' });
    await trust.ready;
    expect((await trust.getBundle(TD))?.getKey('k1')?.use).toBe('jwt-svid');
  });

  it('revalidates the JWK Set with its ETag and keeps the same bundle, without re-reading discovery', async () => {
    const keys = [signingKey('k1')];
    const server = await issuerServer(() => keys);
    const trust = source(server.origin);
    await trust.ready;
    const first = await trust.getBundle(TD);
    await trust.refresh();
    expect(server.lastIfNoneMatch('/keys')).toMatch(/^".+"$/);
    expect(await trust.getBundle(TD)).toBe(first);
    expect(server.count(DISCOVERY)).toBe(1);
    expect(server.count('/keys')).toBe(2);
  });

  it('picks up a rotation on an unknown kid', async () => {
    const old = signingKey('old');
    const next = signingKey('next');
    let keys = [old];
    const server = await issuerServer(() => keys);
    const trust = source(server.origin, { now: new ManualClock().now });
    await trust.ready;
    keys = [old, next];
    expect((await authenticatorOver(trust).authenticate(bearer(jwtSvid(next, CALLER)))).id).toBe(CALLER);
  });

  it('fails closed when the discovery document names another issuer', async () => {
    const server = await issuerServer(() => [signingKey('k1')]);
    server.route(DISCOVERY, json({ issuer: 'https://evil.example', jwks_uri: `${server.origin}/keys` }));
    const trust = source(server.origin);
    await trust.ready;
    expect(trust.status).toMatchObject({ loaded: false, lastFailure: 'issuer_mismatch' });
    expect(server.count('/keys')).toBe(0);
    expect(
      await errorCode(authenticatorOver(trust).authenticate(bearer(jwtSvid(signingKey('k1'), CALLER)))),
    ).toBe('trust_unavailable');
  });

  it('refuses a jwks_uri that is not https, and a discovery document without one', async () => {
    const server = await issuerServer(() => [signingKey('k1')]);
    server.route(DISCOVERY, json({ issuer: server.origin, jwks_uri: 'http://127.0.0.1:1/keys' }));
    const trust = source(server.origin);
    await trust.ready;
    expect(trust.status.lastFailure).toBe('invalid_jwks_uri');

    server.route(DISCOVERY, json({ issuer: server.origin }));
    await trust.refresh();
    expect(trust.status.lastFailure).toBe('invalid_document');
    expect(() => trust.getBundle(TD)).toThrow(TrustUnavailableError);
  });

  it('looks jwks_uri up again after the JWK Set fails, and follows it when it moved', async () => {
    const key = signingKey('k1');
    const server = await issuerServer(() => [key]);
    const trust = source(server.origin);
    await trust.ready;
    const first = await trust.getBundle(TD);

    // The keys move: the old location fails, discovery names the new one.
    server.route('/keys', (_request, response) => response.writeHead(404).end());
    server.route(DISCOVERY, json({ issuer: server.origin, jwks_uri: `${server.origin}/keys-v2` }));
    server.route('/keys-v2', json(jwks([key])));
    await trust.refresh();
    expect(trust.status.lastFailure).toBe('http_status');
    expect(await trust.getBundle(TD)).toBe(first);

    await trust.refresh();
    expect(trust.status).toMatchObject({ lastFailure: undefined, consecutiveFailures: 0 });
    expect(server.count(DISCOVERY)).toBe(2);
    expect(server.count('/keys-v2')).toBe(1);
    expect(await trust.getBundle(TD)).toBe(first);
  });

  it('serves the last good keys during an outage within the staleness bound, and fails closed beyond it', async () => {
    const clock = new ManualClock();
    const key = signingKey('k1');
    const server = await issuerServer(() => [key]);
    const trust = source(server.origin, { now: clock.now, maxStalenessMs: 10_000 });
    const authenticator = authenticatorOver(trust);
    await trust.ready;
    await server.close();

    clock.advance(5_000);
    await trust.refresh();
    expect(trust.status.lastFailure).toBe('network_error');
    expect((await authenticator.authenticate(bearer(jwtSvid(key, CALLER)))).id).toBe(CALLER);

    clock.advance(6_000);
    expect(await errorCode(authenticator.authenticate(bearer(jwtSvid(key, CALLER))))).toBe(
      'trust_unavailable',
    );
  });
});
