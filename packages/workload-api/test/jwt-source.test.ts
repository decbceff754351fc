import { status as GrpcStatus } from '@grpc/grpc-js';
import { jwtSvidFetch } from '@wimse-auth/client';
import { createAuthenticator } from '@wimse-auth/core';
import { type FakeWorkloadApi, startFakeWorkloadApi } from '@wimse-auth/testing/workload-api';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkloadApiClient } from '../src/client.js';
import { WorkloadApiJwtSource } from '../src/jwt-source.js';
import { FAST_BACKOFF } from './helpers.js';

const AUDIENCE = 'spiffe://example.org/orders';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(
  fakeOptions: Parameters<typeof startFakeWorkloadApi>[0] = {},
  sourceOptions: ConstructorParameters<typeof WorkloadApiJwtSource>[0] = {},
) {
  const fake: FakeWorkloadApi = await startFakeWorkloadApi(fakeOptions);
  cleanups.push(() => fake.close());
  const source = new WorkloadApiJwtSource({
    endpoint: fake.endpoint,
    backoff: FAST_BACKOFF,
    ...sourceOptions,
  });
  cleanups.push(() => source.close());
  return { fake, source };
}

describe('WorkloadApiJwtSource', () => {
  it('caches per audience set and SPIFFE ID until shortly before exp, then fetches a new token', async () => {
    let now = Date.now();
    // 10-minute tokens, refreshed 60 s before they expire.
    const { fake, source } = await setup({ jwtSvidTtlSeconds: 600 }, { now: () => now });
    const first = await source.fetchJwtSvid({ audience: [AUDIENCE, 'spiffe://example.org/b'] });
    const again = await source.fetchJwtSvid({ audience: ['spiffe://example.org/b', AUDIENCE, AUDIENCE] });
    expect(again).toBe(first);
    expect(fake.calls.FetchJWTSVID).toBe(1);

    // Another audience or identity is another token.
    await source.fetchJwtSvid({ audience: AUDIENCE });
    await source.fetchJwtSvid({ audience: AUDIENCE, spiffeId: 'spiffe://example.org/workload' });
    expect(fake.calls.FetchJWTSVID).toBe(3);

    now = first.expiresAt - 61_000;
    expect(await source.fetchJwtSvid({ audience: [AUDIENCE, 'spiffe://example.org/b'] })).toBe(first);
    now = first.expiresAt - 59_000;
    const refreshed = await source.fetchJwtSvid({ audience: [AUDIENCE, 'spiffe://example.org/b'] });
    expect(refreshed).not.toBe(first);
    expect(fake.calls.FetchJWTSVID).toBe(4);
  });

  it('refreshes short-lived tokens at half their lifetime', async () => {
    let now = Date.now();
    const { fake, source } = await setup({ jwtSvidTtlSeconds: 60 }, { now: () => now });
    const first = await source.fetchJwtSvid({ audience: AUDIENCE });
    now += 25_000;
    expect(await source.fetchJwtSvid({ audience: AUDIENCE })).toBe(first);
    now += 10_000;
    expect(await source.fetchJwtSvid({ audience: AUDIENCE })).not.toBe(first);
    expect(fake.calls.FetchJWTSVID).toBe(2);
  });

  it('shares one fetch between concurrent callers', async () => {
    const { fake, source } = await setup();
    const tokens = await Promise.all(
      Array.from({ length: 20 }, () => source.fetchJwtSvid({ audience: AUDIENCE })),
    );
    expect(new Set(tokens).size).toBe(1);
    expect(fake.calls.FetchJWTSVID).toBe(1);
  });

  it('retries PERMISSION_DENIED then succeeds; gives up after maxAttempts', async () => {
    const { fake, source } = await setup();
    fake.failNext(2, GrpcStatus.PERMISSION_DENIED);
    expect((await source.fetchJwtSvid({ audience: AUDIENCE })).spiffeId).toBe(
      'spiffe://example.org/workload',
    );
    expect(fake.calls.FetchJWTSVID).toBe(3);

    fake.failNext(3, GrpcStatus.PERMISSION_DENIED);
    await expect(source.fetchJwtSvid({ audience: 'spiffe://example.org/x' })).rejects.toMatchObject({
      code: 'permission_denied',
    });
    expect(fake.calls.FetchJWTSVID).toBe(6);
    // INVALID_ARGUMENT is not retried.
    fake.failNext(1, GrpcStatus.INVALID_ARGUMENT);
    await expect(source.fetchJwtSvid({ audience: 'spiffe://example.org/y' })).rejects.toMatchObject({
      code: 'invalid_argument',
    });
    expect(fake.calls.FetchJWTSVID).toBe(7);
  });

  it('serves the still-valid cached token when a refresh fails', async () => {
    let now = Date.now();
    const { fake, source } = await setup({ jwtSvidTtlSeconds: 600 }, { now: () => now, maxAttempts: 1 });
    const first = await source.fetchJwtSvid({ audience: AUDIENCE });
    await fake.stop();
    now = first.expiresAt - 30_000;
    expect(await source.fetchJwtSvid({ audience: AUDIENCE })).toBe(first);
    now = first.expiresAt + 1_000;
    await expect(source.fetchJwtSvid({ audience: AUDIENCE })).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('bounds the cache', async () => {
    const { fake, source } = await setup({}, { maxCacheEntries: 2 });
    await source.fetchJwtSvid({ audience: 'spiffe://example.org/a' });
    await source.fetchJwtSvid({ audience: 'spiffe://example.org/b' });
    await source.fetchJwtSvid({ audience: 'spiffe://example.org/a' });
    await source.fetchJwtSvid({ audience: 'spiffe://example.org/c' }); // evicts b, the least recently used
    await source.fetchJwtSvid({ audience: 'spiffe://example.org/a' });
    expect(fake.calls.FetchJWTSVID).toBe(3);
    await source.fetchJwtSvid({ audience: 'spiffe://example.org/b' });
    expect(fake.calls.FetchJWTSVID).toBe(4);
    // Failed requests take no slot: the cached tokens stay.
    fake.failNext(1, GrpcStatus.INVALID_ARGUMENT);
    await expect(source.fetchJwtSvid({ audience: 'spiffe://example.org/d' })).rejects.toThrow();
    await source.fetchJwtSvid({ audience: 'spiffe://example.org/b' });
    await source.fetchJwtSvid({ audience: 'spiffe://example.org/a' });
    expect(fake.calls.FetchJWTSVID).toBe(5); // the failed call only
  });

  it('is the token provider of @wimse-auth/client: a service verifying with the agent bundles accepts the call', async () => {
    const { fake, source } = await setup({ identities: ['/ns/shop/sa/web'] });
    const authenticator = createAuthenticator({
      trust: fake.trustDomain.bundleSource,
      audience: { values: [AUDIENCE] },
    });
    const send = jwtSvidFetch({
      token: source.tokenProvider({ audience: AUDIENCE }),
      fetch: async (input) => {
        const request = new Request(input);
        const principal = await authenticator.authenticate({
          url: '/orders',
          headers: { authorization: request.headers.get('authorization') ?? '' },
        });
        return new Response(principal.id);
      },
    });
    expect(await (await send('http://orders.internal/orders')).text()).toBe(
      'spiffe://example.org/ns/shop/sa/web',
    );
    await send('http://orders.internal/orders');
    expect(fake.calls.FetchJWTSVID).toBe(1);
  });

  it('does not close a client it was given', async () => {
    const fake = await startFakeWorkloadApi();
    cleanups.push(() => fake.close());
    const client = new WorkloadApiClient({ endpoint: fake.endpoint });
    cleanups.push(() => client.close());
    const source = new WorkloadApiJwtSource({ client });
    await source.fetchJwtSvid({ audience: AUDIENCE });
    await source[Symbol.asyncDispose]();
    expect(client.closed).toBe(false);
  });

  it('rejects invalid options', () => {
    const endpoint = 'unix:///tmp/none.sock';
    expect(() => new WorkloadApiJwtSource({ endpoint, maxCacheEntries: 0 })).toThrow(RangeError);
    expect(() => new WorkloadApiJwtSource({ endpoint, maxAttempts: 0 })).toThrow(RangeError);
    expect(() => new WorkloadApiJwtSource({ endpoint, refreshBeforeExpiryMs: -1 })).toThrow(RangeError);
    expect(() => new WorkloadApiJwtSource({ endpoint, backoff: { initialMs: 10, maxMs: 5 } })).toThrow(
      RangeError,
    );
  });
});
