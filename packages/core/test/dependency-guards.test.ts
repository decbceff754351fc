import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BundleSource, isWimseError, type ReplayStore } from '../src/index.js';
import { createWorld } from './support/world.js';

const world = createWorld();
const never = <T>() => new Promise<T>(() => {});

async function outcome(promise: Promise<unknown>): Promise<{ code: string; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return {
    code: isWimseError(error) ? error.code : `not rejected: ${String(error)}`,
    ms: performance.now() - started,
  };
}

describe('dependencyTimeoutMs', () => {
  const unhandled: unknown[] = [];
  const collect = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', collect);
  });
  afterEach(() => {
    process.off('unhandledRejection', collect);
  });

  it('fails a request closed with 503 when the bundle source never answers', async () => {
    const hanging: BundleSource = { getBundle: () => never() };
    const authenticator = world.authenticator({ trust: hanging, dependencyTimeoutMs: 50 });
    const result = await outcome(authenticator.authenticate(world.proofRequest()));
    expect(result.code).toBe('trust_unavailable');
    expect(result.ms).toBeLessThan(2000);
  });

  it('fails closed with 503 when the replay store never answers', async () => {
    const hanging: ReplayStore = { checkAndRemember: () => never() };
    const authenticator = world.authenticator({ replayStore: hanging, dependencyTimeoutMs: 50 });
    expect((await outcome(authenticator.authenticate(world.proofRequest()))).code).toBe('trust_unavailable');
  });

  it('observes a source that rejects after the deadline, so nothing is left unhandled', async () => {
    const late: BundleSource = {
      getBundle: () => new Promise((_, reject) => setTimeout(() => reject(new Error('late')), 100)),
    };
    const authenticator = world.authenticator({ trust: late, dependencyTimeoutMs: 20 });
    expect((await outcome(authenticator.authenticate(world.proofRequest()))).code).toBe('trust_unavailable');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(unhandled).toEqual([]);
  });

  it('leaves sources that answer in time, synchronously or not, alone', async () => {
    const slow: BundleSource = {
      getBundle: (trustDomain) =>
        new Promise((resolve) => setTimeout(() => resolve(world.trust.getBundle(trustDomain)), 10)),
    };
    const principal = await world
      .authenticator({ trust: slow, dependencyTimeoutMs: 2000 })
      .authenticate(world.proofRequest());
    expect(principal.id).toBe('spiffe://example.org/ns/prod/sa/billing');
    expect((await world.authenticator().authenticate(world.proofRequest())).credential).toBe('wpt');
  });

  it('bounds and checks refreshOnUnknownKey like getBundle, and keeps using it', async () => {
    const refreshing: BundleSource = {
      getBundle: (trustDomain) => world.trust.getBundle(trustDomain),
      refreshOnUnknownKey: () => never(),
    };
    const authenticator = world.authenticator({ trust: refreshing, dependencyTimeoutMs: 50 });
    const unknownKid = world.mintJwtSvid({}, { kid: 'rotated-in' });
    const request = { url: '/orders', headers: { authorization: `Bearer ${unknownKid}` } };
    expect((await outcome(authenticator.authenticate(request))).code).toBe('trust_unavailable');

    const confused: BundleSource = {
      getBundle: (trustDomain) => world.trust.getBundle(trustDomain),
      refreshOnUnknownKey: () => world.otherBundle,
    };
    const confusedAuthenticator = world.authenticator({ trust: confused });
    expect((await outcome(confusedAuthenticator.authenticate(request))).code).toBe('trust_unavailable');
  });

  it('rejects a timeout that is not a positive number of milliseconds', () => {
    for (const dependencyTimeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => world.authenticator({ dependencyTimeoutMs })).toThrow(TypeError);
    }
  });
});

describe('answers of a trust source', () => {
  it('treats an answer that is not a bundle as unavailable trust (503), never as keys', async () => {
    for (const garbage of [null, {}, 'bundle', 42, { getKey: () => undefined }]) {
      const broken = { getBundle: () => garbage } as unknown as BundleSource;
      expect(
        (await outcome(world.authenticator({ trust: broken }).authenticate(world.proofRequest()))).code,
      ).toBe('trust_unavailable');
    }
  });

  it('refuses the bundle of another trust domain (503), so its keys never sign for this one', async () => {
    const confused: BundleSource = { getBundle: () => world.otherBundle };
    const authenticator = world.authenticator({ trust: confused });
    expect((await outcome(authenticator.authenticate(world.proofRequest()))).code).toBe('trust_unavailable');
    const asynchronous: BundleSource = { getBundle: async () => world.otherBundle };
    expect(
      (await outcome(world.authenticator({ trust: asynchronous }).authenticate(world.proofRequest()))).code,
    ).toBe('trust_unavailable');
  });
});
