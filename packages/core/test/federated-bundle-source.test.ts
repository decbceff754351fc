// federatedBundleSource against a real HTTPS bundle endpoint on 127.0.0.1 with a
// certificate made for the run: loading, ETag/304, rotation, refresh bounds, outage within
// and beyond the staleness bound, and the unknown-kid re-fetch cooldown under a burst.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createAuthenticator,
  type FederatedBundleSource,
  type FederatedBundleSourceOptions,
  federatedBundleSource,
  isWimseError,
  TrustDomain,
  TrustUnavailableError,
  type WimseEvent,
} from '../src/index.js';
import {
  AUDIENCE,
  bearer,
  eventually,
  json,
  jwtSvid,
  ManualClock,
  makeTlsMaterial,
  signingKey,
  spiffeBundle,
  startTrustServer,
  type TlsMaterial,
  TOKEN_NOW,
  type TrustServer,
  trustingTransport,
  withEtag,
} from './support/remote-trust-server.js';

// Real servers and TLS on a loaded machine: generous, still bounded.
vi.setConfig({ testTimeout: 20_000 });

const TD = TrustDomain.parse('partner.example');
const CALLER = 'spiffe://partner.example/ns/prod/sa/billing';

let tls: TlsMaterial;
let server: TrustServer;
const sources: FederatedBundleSource[] = [];

beforeAll(async () => {
  tls = await makeTlsMaterial();
  server = await startTrustServer(tls);
}, 30_000);

afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.close()));
});

afterAll(async () => {
  await server?.close();
});

let pathCounter = 0;
/** A fresh path per test, so request counts never mix. */
function freshPath(): string {
  pathCounter += 1;
  return `/bundle-${pathCounter}`;
}

function source(path: string, options: Partial<FederatedBundleSourceOptions> = {}): FederatedBundleSource {
  const created = federatedBundleSource({
    trustDomain: 'partner.example',
    url: `${server.origin}${path}`,
    profile: 'https_web',
    ...trustingTransport(tls),
    ...options,
  });
  sources.push(created);
  return created;
}

function authenticatorOver(trust: FederatedBundleSource) {
  return createAuthenticator({
    trust,
    audience: { values: [AUDIENCE] },
    accept: ['jwt-svid'],
    clock: () => new Date(TOKEN_NOW * 1000),
  });
}

async function rejection(promise: Promise<unknown>): Promise<{ code: string; status: number }> {
  try {
    await promise;
  } catch (error) {
    if (isWimseError(error)) return { code: error.code, status: error.status };
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('federatedBundleSource: configuration', () => {
  it('refuses plain http unless explicitly allowed, and any profile but https_web', () => {
    const base = { trustDomain: 'partner.example', profile: 'https_web' } as const;
    expect(() => federatedBundleSource({ ...base, url: 'http://127.0.0.1:1/bundle' })).toThrow(/https/);
    expect(() => federatedBundleSource({ ...base, url: 'https://user:pw@example.org/b' })).toThrow(
      /userinfo/,
    );
    expect(() => federatedBundleSource({ ...base, url: 'not a url' })).toThrow(TypeError);
    expect(() =>
      federatedBundleSource({
        ...base,
        url: 'https://example.org/b',
        profile: 'https_spiffe' as 'https_web',
      }),
    ).toThrow(/not supported/);
    expect(() =>
      federatedBundleSource({
        ...base,
        url: 'https://example.org/b',
        minRefreshIntervalMs: 1000,
        maxRefreshIntervalMs: 10,
      }),
    ).toThrow(RangeError);
    expect(() =>
      federatedBundleSource({ ...base, url: 'https://example.org/b', maxStalenessMs: -1 }),
    ).toThrow(RangeError);
    expect(() =>
      federatedBundleSource({ ...base, url: 'https://example.org/b', requestTimeoutMs: 0 }),
    ).toThrow(RangeError);
    const allowed = federatedBundleSource({
      ...base,
      url: 'http://127.0.0.1:1/bundle',
      allowInsecureHttp: true,
    });
    sources.push(allowed);
    expect(allowed.url).toBe('http://127.0.0.1:1/bundle');
  });
});

describe('federatedBundleSource over HTTPS', () => {
  it('serves the fetched bundle for its trust domain only, and verifies tokens with it', async () => {
    const key = signingKey('k1');
    const path = freshPath();
    server.route(path, json(spiffeBundle([key], { spiffe_sequence: 1 })));
    const trust = source(path);
    await trust.ready;

    const bundle = await trust.getBundle(TD);
    expect(bundle?.getKey('k1')?.use).toBe('jwt-svid');
    expect(await trust.getBundle(TrustDomain.parse('other.example'))).toBeUndefined();
    expect(trust.status).toMatchObject({ loaded: true, unavailable: false, consecutiveFailures: 0 });

    const principal = await authenticatorOver(trust).authenticate(bearer(jwtSvid(key, CALLER)));
    expect(principal.id).toBe(CALLER);
  });

  it('fails closed with 503 when the certificate is not trusted (never loaded)', async () => {
    const path = freshPath();
    server.route(path, json(spiffeBundle([signingKey('k1')])));
    // The global fetch, which does not know the run's CA.
    const trust = federatedBundleSource({
      trustDomain: 'partner.example',
      url: `${server.origin}${path}`,
      profile: 'https_web',
    });
    sources.push(trust);
    await trust.ready;
    expect(trust.status).toMatchObject({ loaded: false, unavailable: true, lastFailure: 'network_error' });
    await expect(Promise.resolve().then(() => trust.getBundle(TD))).rejects.toBeInstanceOf(
      TrustUnavailableError,
    );
    const result = await rejection(
      authenticatorOver(trust).authenticate(bearer(jwtSvid(signingKey('k1'), CALLER))),
    );
    expect(result).toEqual({ code: 'trust_unavailable', status: 503 });
  });

  it('revalidates with If-None-Match and keeps the same bundle object on 304', async () => {
    const path = freshPath();
    const document = spiffeBundle([signingKey('k1')]);
    server.route(
      path,
      withEtag(() => document),
    );
    const trust = source(path);
    await trust.ready;
    const first = await trust.getBundle(TD);

    await trust.refresh();
    expect(server.count(path)).toBe(2);
    expect(server.lastIfNoneMatch(path)).toMatch(/^".+"$/);
    expect(await trust.getBundle(TD)).toBe(first);
  });

  it('keeps the same object when a 200 carries an unchanged document, and replaces it on rotation', async () => {
    const events: WimseEvent[] = [];
    const old = signingKey('old');
    const next = signingKey('next');
    let keys = [old];
    const path = freshPath();
    server.route(path, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(spiffeBundle(keys)));
    });
    const trust = source(path, { onEvent: (event) => events.push(event) });
    await trust.ready;
    const first = await trust.getBundle(TD);
    await trust.refresh();
    expect(await trust.getBundle(TD)).toBe(first);
    expect(events.filter((event) => event.name === 'bundle.updated')).toHaveLength(1);

    keys = [old, next];
    await trust.refresh();
    const rotated = await trust.getBundle(TD);
    expect(rotated).not.toBe(first);
    expect(rotated?.getKey('next')).toBeDefined();
    const updated = events.filter((event) => event.name === 'bundle.updated');
    expect(updated).toHaveLength(2);
    expect(updated[1]?.attributes).toMatchObject({
      'wimse.trust_domain': 'partner.example',
      'wimse.bundle.keys': 2,
    });
    expect(JSON.stringify(events)).not.toContain(String((next.key.publicJwk as { x: string }).x));
  });

  it('refuses a bundle whose spiffe_sequence goes backwards and keeps the newer one', async () => {
    let sequence = 5;
    const key = signingKey('k1');
    const path = freshPath();
    server.route(path, (_request, response) => {
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(spiffeBundle([key], { spiffe_sequence: sequence })));
    });
    const trust = source(path);
    await trust.ready;
    const first = await trust.getBundle(TD);
    sequence = 4;
    await trust.refresh();
    expect(trust.status.lastFailure).toBe('sequence_regressed');
    expect(await trust.getBundle(TD)).toBe(first);
  });

  it('polls at spiffe_refresh_hint bounded by maxRefreshIntervalMs, and not faster than minRefreshIntervalMs', async () => {
    const slowPath = freshPath();
    server.route(slowPath, json(spiffeBundle([signingKey('k1')], { spiffe_refresh_hint: 3600 })));
    source(slowPath, { minRefreshIntervalMs: 50, maxRefreshIntervalMs: 100 });
    // A one-hour hint, capped at 100 ms: several polls within seconds.
    await eventually(() => server.count(slowPath) >= 3);

    const fastPath = freshPath();
    server.route(fastPath, json(spiffeBundle([signingKey('k1')], { spiffe_refresh_hint: 0 })));
    const fast = source(fastPath, { minRefreshIntervalMs: 60_000 });
    await fast.ready;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A zero hint, floored at one minute: no second request.
    expect(server.count(fastPath)).toBe(1);
  });

  it('honours Cache-Control max-age as a refresh interval when it is shorter than the hint', async () => {
    const path = freshPath();
    server.route(
      path,
      json(spiffeBundle([signingKey('k1')], { spiffe_refresh_hint: 3600 }), { 'cache-control': 'max-age=0' }),
    );
    source(path, { minRefreshIntervalMs: 50 });
    await eventually(() => server.count(path) >= 3);
  });
});

describe('federatedBundleSource during an endpoint outage', () => {
  it('serves the last good bundle within the staleness bound, then fails closed, then recovers', async () => {
    const clock = new ManualClock();
    const events: WimseEvent[] = [];
    const key = signingKey('k1');
    const path = freshPath();
    let up = true;
    server.route(path, (_request, response) => {
      if (up)
        response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify(spiffeBundle([key])));
      else response.writeHead(502).end('bad gateway');
    });
    const trust = source(path, {
      now: clock.now,
      maxStalenessMs: 60_000,
      onEvent: (event) => events.push(event),
    });
    const authenticator = authenticatorOver(trust);
    await trust.ready;
    const good = await trust.getBundle(TD);

    up = false;
    clock.advance(30_000);
    await trust.refresh();
    expect(await trust.getBundle(TD)).toBe(good);
    expect((await authenticator.authenticate(bearer(jwtSvid(key, CALLER)))).id).toBe(CALLER);
    expect(trust.status).toMatchObject({
      lastFailure: 'http_status',
      consecutiveFailures: 1,
      unavailable: false,
    });
    expect(events.map((event) => event.name)).toEqual([
      'bundle.updated',
      'bundle.refresh_failed',
      'bundle.stale',
    ]);
    expect(events[1]?.attributes).toMatchObject({
      'error.type': 'http_status',
      'wimse.trust_domain': 'partner.example',
    });

    clock.advance(31_000);
    await trust.refresh();
    expect(trust.status.unavailable).toBe(true);
    expect(() => trust.getBundle(TD)).toThrow(TrustUnavailableError);
    // A cached verification must not outlive the bundle either.
    expect(await rejection(authenticator.authenticate(bearer(jwtSvid(key, CALLER))))).toEqual({
      code: 'trust_unavailable',
      status: 503,
    });

    up = true;
    await trust.refresh();
    expect(trust.status).toMatchObject({ unavailable: false, consecutiveFailures: 0 });
    expect(await trust.getBundle(TD)).toBe(good);
    expect((await authenticator.authenticate(bearer(jwtSvid(key, CALLER)))).id).toBe(CALLER);
  });

  it('keeps serving the last good bundle indefinitely with maxStalenessMs: Infinity', async () => {
    const clock = new ManualClock();
    const path = freshPath();
    server.route(path, json(spiffeBundle([signingKey('k1')])));
    const trust = source(path, { now: clock.now, maxStalenessMs: Number.POSITIVE_INFINITY });
    await trust.ready;
    const good = await trust.getBundle(TD);
    server.route(path, (_request, response) => response.writeHead(500).end());
    clock.advance(365 * 24 * 3600_000);
    await trust.refresh();
    expect(trust.status.lastFailure).toBe('http_status');
    expect(await trust.getBundle(TD)).toBe(good);
  });

  it('retries a failed fetch on its own, with backoff from minRefreshIntervalMs', async () => {
    const path = freshPath();
    let failuresLeft = 2;
    server.route(path, (_request, response) => {
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        response.writeHead(503).end();
        return;
      }
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify(spiffeBundle([signingKey('k1')])));
    });
    const trust = source(path, { minRefreshIntervalMs: 20, defaultRefreshIntervalMs: 60_000 });
    await trust.ready;
    expect(trust.status.loaded).toBe(false);
    await eventually(() => trust.status.loaded);
    expect(server.count(path)).toBe(3);
  });
});

describe('federatedBundleSource: re-fetch on an unknown kid', () => {
  it('makes at most one request per cooldown under a burst of 1,000 hostile tokens', async () => {
    const clock = new ManualClock();
    const key = signingKey('k1');
    const attacker = signingKey('attacker');
    const path = freshPath();
    server.route(path, json(spiffeBundle([key])));
    const trust = source(path, { now: clock.now, unknownKeyRefreshCooldownMs: 30_000 });
    const authenticator = authenticatorOver(trust);
    await trust.ready;
    expect(server.count(path)).toBe(1);

    const burst = Array.from({ length: 1000 }, (_, index) =>
      rejection(authenticator.authenticate(bearer(jwtSvid(attacker, CALLER, `made-up-${index}`)))),
    );
    const results = await Promise.all(burst);
    expect(results.every((result) => result.code === 'unknown_key' && result.status === 401)).toBe(true);
    expect(server.count(path)).toBe(2);

    // Still within the cooldown: more hostile tokens cost no request.
    clock.advance(29_000);
    await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        rejection(authenticator.authenticate(bearer(jwtSvid(attacker, CALLER, `again-${index}`)))),
      ),
    );
    expect(server.count(path)).toBe(2);

    // After the cooldown, one more.
    clock.advance(2_000);
    await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        rejection(authenticator.authenticate(bearer(jwtSvid(attacker, CALLER, `later-${index}`)))),
      ),
    );
    expect(server.count(path)).toBe(3);
    // Legitimate tokens were never affected.
    expect((await authenticator.authenticate(bearer(jwtSvid(key, CALLER)))).id).toBe(CALLER);
  });

  it('accepts a token signed by a key published after the last poll, without waiting for the next one', async () => {
    const clock = new ManualClock();
    const old = signingKey('old');
    const next = signingKey('next');
    let keys = [old];
    const path = freshPath();
    server.route(path, (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(spiffeBundle(keys)));
    });
    const trust = source(path, {
      now: clock.now,
      defaultRefreshIntervalMs: 3_600_000,
      maxRefreshIntervalMs: 3_600_000,
    });
    const authenticator = authenticatorOver(trust);
    await trust.ready;

    keys = [old, next];
    const principal = await authenticator.authenticate(bearer(jwtSvid(next, CALLER)));
    expect(principal.id).toBe(CALLER);
    expect(server.count(path)).toBe(2);
  });
});
