// authenticateRequest: the adapters' entry point, answering a cached credential without a
// promise and otherwise behaving exactly like authenticate / authenticateIfPresent.
import { describe, expect, it } from 'vitest';
import {
  type Authenticator,
  authenticateRequest,
  type HttpRequestLike,
  JwtBundle,
  StaticBundleSource,
  type WimseEvent,
  type WorkloadPrincipal,
} from '../src/index.js';
import { CALLER, createWorld, ORIGIN } from './support/world.js';

const bearer = (token: string, url = '/orders'): HttpRequestLike => ({
  method: 'GET',
  url,
  headers: { authorization: `Bearer ${token}` },
});

/** Runs `attempt`, reporting how it ended: returned (now), resolved or rejected (later), thrown (now). */
async function settle(
  attempt: () => WorkloadPrincipal | undefined | Promise<WorkloadPrincipal | undefined>,
): Promise<{ how: 'returned' | 'resolved' | 'thrown' | 'rejected'; value?: unknown }> {
  let outcome: ReturnType<typeof attempt>;
  try {
    outcome = attempt();
  } catch (error) {
    return { how: 'thrown', value: error };
  }
  if (!(outcome instanceof Promise)) return { how: 'returned', value: outcome };
  try {
    return { how: 'resolved', value: await outcome };
  } catch (error) {
    return { how: 'rejected', value: error };
  }
}

describe('authenticateRequest', () => {
  it('answers a repeated JWT-SVID synchronously, with the same principal authenticate gives', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    const request = bearer(world.mintJwtSvid());
    // Verified on its first two sightings (the cache takes a token on its second), then cached.
    expect((await settle(() => authenticateRequest(authenticator, request, true))).how).toBe('resolved');
    const second = await settle(() => authenticateRequest(authenticator, request, true));
    expect(second.how).toBe('resolved');
    const again = await settle(() => authenticateRequest(authenticator, request, true));
    expect(again.how).toBe('returned');
    expect(again.value).toBe(second.value);
    expect(again.value).toBe(await authenticator.authenticate(request));
    expect((again.value as WorkloadPrincipal).id).toBe(CALLER);
  });

  it('throws synchronously when a cached token no longer fits the request', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    // Accepted on /orders, the path its audience names, then refused on another path.
    const token = world.mintJwtSvid({ aud: [`${ORIGIN}/orders`] });
    for (let sighting = 0; sighting < 2; sighting++) {
      expect((await settle(() => authenticateRequest(authenticator, bearer(token), true))).how).toBe(
        'resolved',
      );
    }
    const elsewhere = await settle(() => authenticateRequest(authenticator, bearer(token, '/refunds'), true));
    expect(elsewhere.how).toBe('thrown');
    expect(elsewhere.value).toMatchObject({ code: 'audience_mismatch', status: 401, credential: 'jwt-svid' });
  });

  it('a request without credentials: thrown when required, undefined now when optional', async () => {
    const authenticator = createWorld().authenticator();
    const none: HttpRequestLike = { url: '/orders', headers: {} };
    const required = await settle(() => authenticateRequest(authenticator, none, true));
    expect(required.how).toBe('thrown');
    expect(required.value).toMatchObject({ code: 'credentials_missing' });
    expect(await settle(() => authenticateRequest(authenticator, none, false))).toEqual({
      how: 'returned',
      value: undefined,
    });
  });

  it('optional authentication still refuses a present, invalid credential', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    const forged = `${world.mintJwtSvid().slice(0, -4)}AAAA`;
    const outcome = await settle(() => authenticateRequest(authenticator, bearer(forged), false));
    expect(outcome.how).toBe('rejected');
    expect(outcome.value).toMatchObject({ code: 'invalid_signature' });
  });

  it('never answers a proof synchronously: every WPT is verified and checked for replay', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    const wit = world.mintWit();
    await authenticator.authenticate(world.proofRequest(wit));
    const request = world.proofRequest(wit);
    expect((await settle(() => authenticateRequest(authenticator, request, true))).how).toBe('resolved');
    const replay = await settle(() => authenticateRequest(authenticator, request, true));
    expect(replay.how).toBe('rejected');
    expect(replay.value).toMatchObject({ code: 'replay_detected' });
  });

  it('re-verifies when the bundle changed, through a promise', async () => {
    const world = createWorld();
    let bundle = world.bundle;
    const trust = { getBundle: () => bundle };
    const authenticator = world.authenticator({ trust });
    const request = bearer(world.mintJwtSvid());
    await authenticator.authenticate(request);
    await authenticator.authenticate(request);
    expect((await settle(() => authenticateRequest(authenticator, request, true))).how).toBe('returned');
    // A rotation that drops the token's key: the cached verification no longer counts.
    bundle = JwtBundle.fromSpiffeBundle('example.org', {
      keys: [{ ...world.otherKey.publicJwk, kid: 'jwt-2', use: 'jwt-svid' }],
    });
    const rotated = await settle(() => authenticateRequest(authenticator, request, true));
    expect(rotated.how).toBe('rejected');
    expect(rotated.value).toMatchObject({ code: 'unknown_key' });
  });

  it('emits the same events on the synchronous path', async () => {
    const world = createWorld();
    const events: WimseEvent[] = [];
    const authenticator = world.authenticator({ onEvent: (event) => events.push(event) });
    const request = bearer(world.mintJwtSvid());
    await authenticator.authenticate(request);
    await authenticator.authenticate(request);
    events.length = 0;
    authenticateRequest(authenticator, request, true);
    expect(events.map((event) => event.name)).toEqual(['cache.hit', 'authenticated']);
    expect(events[1]?.attributes).toMatchObject({
      'wimse.workload.id': CALLER,
      'wimse.credential': 'jwt-svid',
    });
    events.length = 0;
    expect(() => authenticateRequest(authenticator, { url: '/orders', headers: {} }, true)).toThrow();
    expect(events.map((event) => event.name)).toEqual(['rejected']);
  });

  it('calls any other Authenticator through its own methods and returns its promise', async () => {
    const principal = { id: CALLER } as WorkloadPrincipal;
    const calls: string[] = [];
    const custom: Authenticator = {
      accept: ['jwt-svid'],
      authenticate: async () => {
        calls.push('authenticate');
        return principal;
      },
      authenticateIfPresent: async () => {
        calls.push('authenticateIfPresent');
        return undefined;
      },
      challenges: () => [],
    };
    const request = bearer('x.y.z');
    expect(await settle(() => authenticateRequest(custom, request, true))).toEqual({
      how: 'resolved',
      value: principal,
    });
    expect(await settle(() => authenticateRequest(custom, request, false))).toEqual({
      how: 'resolved',
      value: undefined,
    });
    expect(calls).toEqual(['authenticate', 'authenticateIfPresent']);
  });

  it('a trust source answering with a promise makes a cache hit asynchronous, not wrong', async () => {
    const world = createWorld();
    const trust = new StaticBundleSource([world.bundle]);
    const authenticator = world.authenticator({ trust: { getBundle: async (td) => trust.getBundle(td) } });
    const request = bearer(world.mintJwtSvid());
    await authenticator.authenticate(request);
    await authenticator.authenticate(request);
    const hit = await settle(() => authenticateRequest(authenticator, request, true));
    expect(hit.how).toBe('resolved');
    expect((hit.value as WorkloadPrincipal).id).toBe(CALLER);
  });
});
