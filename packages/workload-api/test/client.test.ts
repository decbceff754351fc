import { createPrivateKey, createPublicKey } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { JwtBundle, type TrustDomain, verifyWit } from '@wimse-auth/core';
import { type FakeWorkloadApi, startFakeWorkloadApi } from '@wimse-auth/testing/workload-api';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkloadApiClient } from '../src/client.js';
import { WorkloadApiError } from '../src/errors.js';

const AUDIENCE = 'spiffe://example.org/orders';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(options: Parameters<typeof startFakeWorkloadApi>[0] = {}) {
  const fake: FakeWorkloadApi = await startFakeWorkloadApi(options);
  cleanups.push(() => fake.close());
  const client = new WorkloadApiClient({ endpoint: fake.endpoint, timeoutMs: 5_000 });
  cleanups.push(() => client.close());
  return { fake, client };
}

describe('WorkloadApiClient', () => {
  it('takes its endpoint from SPIFFE_ENDPOINT_SOCKET and sends the security header on every call', async () => {
    const fake = await startFakeWorkloadApi();
    cleanups.push(() => fake.close());
    const client = new WorkloadApiClient({ env: { SPIFFE_ENDPOINT_SOCKET: fake.endpoint } });
    cleanups.push(() => client.close());
    expect(client.endpoint).toMatchObject({ transport: 'unix', path: fake.socketPath });
    const svid = await client.fetchJwtSvid({ audience: AUDIENCE });
    await client.validateJwtSvid({ audience: AUDIENCE, token: svid.token });
    await new Promise<void>((resolve) => {
      const handle = client.watchJwtBundles({
        onBundles: () => {
          handle.cancel();
          resolve();
        },
        onEnd: () => resolve(),
      });
    });
    await expect(client.fetchWitBundles()).rejects.toMatchObject({ code: 'not_supported' });
    expect(fake.calls).toMatchObject({
      FetchJWTSVID: 1,
      ValidateJWTSVID: 1,
      FetchJWTBundles: 1,
      FetchWITBundles: 1,
    });
    expect(fake.refusedWithoutSecurityHeader).toBe(0);
  });

  it('fetches JWT-SVIDs for each identity, the default first, or the one asked for', async () => {
    const { fake, client } = await setup({ identities: ['/web', '/admin'] });
    const all = await client.fetchJwtSvids({ audience: [AUDIENCE, 'spiffe://example.org/other'] });
    expect(all.map((svid) => svid.spiffeId)).toEqual([
      'spiffe://example.org/web',
      'spiffe://example.org/admin',
    ]);
    expect(all[0]?.audience).toEqual([AUDIENCE, 'spiffe://example.org/other']);
    expect(all[0]?.expiresAt).toBeGreaterThan(Date.now());
    const admin = await client.fetchJwtSvid({ audience: AUDIENCE, spiffeId: 'spiffe://example.org/admin' });
    expect(admin.spiffeId).toBe('spiffe://example.org/admin');
    // An identity the workload does not have: PERMISSION_DENIED, as the agent answers.
    await expect(
      client.fetchJwtSvid({ audience: AUDIENCE, spiffeId: 'spiffe://example.org/root' }),
    ).rejects.toMatchObject({
      code: 'permission_denied',
      retryable: true,
      grpcStatus: GrpcStatus.PERMISSION_DENIED,
    });
    await expect(client.fetchJwtSvid({ audience: [] })).rejects.toThrow(TypeError);
    expect(fake.calls.FetchJWTSVID).toBe(3);
  });

  it('ValidateJWTSVID returns the SPIFFE ID and claims, and refuses a bad token', async () => {
    const { fake, client } = await setup();
    const token = fake.trustDomain.issueJwtSvid({
      sub: '/billing',
      aud: AUDIENCE,
      claims: { extra: { n: [1, 'two', null, true] } },
    });
    const validated = await client.validateJwtSvid({ audience: AUDIENCE, token });
    expect(validated.spiffeId).toBe('spiffe://example.org/billing');
    expect(validated.claims).toMatchObject({
      sub: 'spiffe://example.org/billing',
      aud: AUDIENCE,
      extra: { n: [1, 'two', null, true] },
    });
    expect(typeof validated.claims.exp).toBe('number');

    const expired = fake.trustDomain.issueJwtSvid({ aud: AUDIENCE, bad: 'expired' });
    const error = await client
      .validateJwtSvid({ audience: AUDIENCE, token: expired })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkloadApiError);
    expect(error).toMatchObject({ code: 'invalid_argument', retryable: false });
    expect(String((error as Error).message)).not.toContain(expired);
    await expect(
      client.validateJwtSvid({ audience: 'spiffe://example.org/else', token }),
    ).rejects.toMatchObject({
      code: 'invalid_argument',
    });
  });

  it('reports the WIT-SVID profile as not supported after one call, without retrying', async () => {
    const { fake, client } = await setup();
    await expect(client.fetchWitSvids()).rejects.toMatchObject({ code: 'not_supported', retryable: false });
    await expect(client.fetchWitBundles()).rejects.toMatchObject({ code: 'not_supported', retryable: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fake.calls.FetchWITSVID).toBe(1);
    expect(fake.calls.FetchWITBundles).toBe(1);
  });

  it('fetches WIT-SVIDs with their keys and the WIT bundles from an agent with the WIT-SVID profile', async () => {
    const { fake, client } = await setup({ witProfile: true, identities: ['/web'] });
    const [svid, ...others] = await client.fetchWitSvids();
    expect(others).toHaveLength(0);
    expect(svid?.spiffeId).toBe('spiffe://example.org/web');
    const bundles = await client.fetchWitBundles();
    expect([...bundles.keys()]).toEqual(['spiffe://example.org']);
    const trust = {
      getBundle: (td: TrustDomain) =>
        td.name === 'example.org'
          ? JwtBundle.fromJwks(td, bundles.get('spiffe://example.org') ?? '', { use: 'wit-svid' })
          : undefined,
    };
    const verified = await verifyWit(svid?.token ?? '', { trust, profile: 'wit-svid' });
    expect(verified.identifier.toString()).toBe('spiffe://example.org/web');
    // The private key returned is the one the WIT confirms.
    const privateKey = createPrivateKey({ key: JSON.parse(svid?.privateKeyJwk ?? '{}'), format: 'jwk' });
    const publicJwk = createPublicKey(privateKey).export({ format: 'jwk' });
    const payload = JSON.parse(Buffer.from(svid?.token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    expect(payload.cnf.jwk).toMatchObject({ kty: publicJwk.kty, x: publicJwk.x, y: publicJwk.y });
    // The streams were ended after their first message.
    expect(fake.calls).toMatchObject({ FetchWITSVID: 1, FetchWITBundles: 1 });
    await expect(client.fetchWitSvids({ spiffeId: 'spiffe://example.org/other' })).rejects.toMatchObject({
      code: 'permission_denied',
    });
  });

  it('fails fast with "unavailable" when no agent listens, and "closed" after close()', async () => {
    const { fake, client } = await setup();
    await fake.stop();
    await expect(client.fetchJwtSvid({ audience: AUDIENCE })).rejects.toMatchObject({
      code: 'unavailable',
      retryable: true,
    });
    await client.close();
    expect(client.closed).toBe(true);
    await expect(client.fetchJwtSvid({ audience: AUDIENCE })).rejects.toMatchObject({
      code: 'closed',
      retryable: false,
    });
    const ended = await new Promise<unknown>((resolve) => {
      client.watchJwtBundles({ onBundles: () => {}, onEnd: resolve });
    });
    expect(ended).toMatchObject({ code: 'closed' });
  });

  it('works over tcp://127.0.0.1:port too', async () => {
    const { fake, client } = await setup({ transport: 'tcp' });
    expect(fake.endpoint).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    expect(client.endpoint.transport).toBe('tcp');
    expect((await client.fetchJwtSvid({ audience: AUDIENCE })).spiffeId).toBe(
      'spiffe://example.org/workload',
    );
  });

  it('rejects bad options before connecting', () => {
    expect(() => new WorkloadApiClient({ endpoint: 'tcp://localhost:1' })).toThrow(
      expect.objectContaining({ code: 'invalid_endpoint_address' }),
    );
    expect(() => new WorkloadApiClient({ endpoint: 'unix:///x.sock', timeoutMs: 0 })).toThrow(RangeError);
  });
});
