import { status as GrpcStatus } from '@grpc/grpc-js';
import { createAuthenticator, TrustDomain, TrustUnavailableError } from '@wimse-auth/core';
import { createTestTrustDomain } from '@wimse-auth/testing';
import { type FakeWorkloadApi, startFakeWorkloadApi } from '@wimse-auth/testing/workload-api';
import { afterEach, describe, expect, it } from 'vitest';
import { WorkloadApiBundleSource } from '../src/bundle-source.js';
import { WorkloadApiClient } from '../src/client.js';
import { eventLog, FAST_BACKOFF, waitFor } from './helpers.js';

const EXAMPLE = TrustDomain.parse('example.org');
const AUDIENCE = 'spiffe://example.org/orders';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function fakeAgent(options: Parameters<typeof startFakeWorkloadApi>[0] = {}): Promise<FakeWorkloadApi> {
  const fake = await startFakeWorkloadApi(options);
  cleanups.push(() => fake.close());
  return fake;
}

function source(
  fake: FakeWorkloadApi,
  options: ConstructorParameters<typeof WorkloadApiBundleSource>[0] = {},
) {
  const created = new WorkloadApiBundleSource({ endpoint: fake.endpoint, backoff: FAST_BACKOFF, ...options });
  cleanups.push(() => created.close());
  return created;
}

const bearer = (token: string) => ({ url: '/orders', headers: { authorization: `Bearer ${token}` } });

describe('WorkloadApiBundleSource', () => {
  it('is unavailable (503), never "untrusted", before the first message', async () => {
    const fake = await fakeAgent();
    await fake.stop();
    const trust = source(fake);
    expect(() => trust.getBundle(EXAMPLE)).toThrow(TrustUnavailableError);
    await expect(trust.waitForReady(200)).rejects.toThrow(TrustUnavailableError);
  });

  it('serves the streamed bundles to the authenticator; rotation mid-stream adds and removes keys', async () => {
    const fake = await fakeAgent();
    const log = eventLog();
    const trust = source(fake, { onEvent: log.onEvent });
    await trust.waitForReady(10_000);
    expect(trust.trustDomains).toEqual(['example.org']);
    const authenticator = createAuthenticator({ trust, audience: { values: [AUDIENCE] } });

    const oldToken = fake.trustDomain.issueJwtSvid({ sub: '/billing', aud: AUDIENCE });
    expect((await authenticator.authenticate(bearer(oldToken))).id).toBe('spiffe://example.org/billing');
    const firstBundle = trust.getBundle(EXAMPLE);

    // New keys: the server streams the new set; tokens from the new key verify.
    fake.rotate();
    await waitFor(() => trust.getBundle(EXAMPLE) !== firstBundle, 'the rotated bundle');
    const newToken = fake.trustDomain.issueJwtSvid({ sub: '/billing', aud: AUDIENCE });
    expect((await authenticator.authenticate(bearer(newToken))).id).toBe('spiffe://example.org/billing');
    expect((await authenticator.authenticate(bearer(oldToken))).id).toBe('spiffe://example.org/billing');

    // The retired key is removed: tokens it signed are refused.
    const rotated = trust.getBundle(EXAMPLE);
    fake.trustDomain.dropRetiredKeys();
    fake.publishBundles();
    await waitFor(() => trust.getBundle(EXAMPLE) !== rotated, 'the bundle without the retired key');
    await expect(authenticator.authenticate(bearer(oldToken))).rejects.toMatchObject({ code: 'unknown_key' });
    expect((await authenticator.authenticate(bearer(newToken))).id).toBe('spiffe://example.org/billing');

    const updates = log.named('bundle.updated');
    expect(updates.map((event) => event.attributes['wimse.bundle_change'])).toEqual([
      'added',
      'replaced',
      'replaced',
    ]);
    expect(updates[0]?.attributes).toMatchObject({
      'wimse.trust_domain': 'example.org',
      'wimse.bundle_source': 'workload-api',
    });
  });

  it('keeps the same JwtBundle object while the bundle bytes do not change', async () => {
    const fake = await fakeAgent();
    const log = eventLog();
    const trust = source(fake, { onEvent: log.onEvent });
    await trust.waitForReady(10_000);
    const first = trust.getBundle(EXAMPLE);
    const streamsBefore = fake.calls.FetchJWTBundles;
    fake.publishBundles();
    fake.publishBundles();
    // Pushing an unrelated trust domain shows the stream delivered both identical messages first.
    const other = createTestTrustDomain('other.example');
    fake.setBundles({ 'spiffe://example.org': fake.trustDomain.jwks, 'spiffe://other.example': other.jwks });
    await waitFor(() => trust.trustDomains.includes('other.example'), 'the second trust domain');
    expect(fake.calls.FetchJWTBundles).toBe(streamsBefore);
    expect(log.named('bundle.updated').map((event) => event.attributes['wimse.trust_domain'])).toEqual([
      'example.org',
      'example.org', // the override serves every key (jwks), so the bytes differ once
      'other.example',
    ]);
    const second = trust.getBundle(EXAMPLE);
    fake.setBundles({ 'spiffe://example.org': fake.trustDomain.jwks, 'spiffe://other.example': other.jwks });
    fake.setBundles({ 'spiffe://example.org': fake.trustDomain.jwks });
    await waitFor(() => !trust.trustDomains.includes('other.example'), 'removal of the second trust domain');
    expect(trust.getBundle(EXAMPLE)).toBe(second);
    expect(first).not.toBe(second);
    // A trust domain missing from the latest message is no longer trusted: undefined (401), not 503.
    expect(trust.getBundle(TrustDomain.parse('other.example'))).toBeUndefined();
  });

  it('fails closed for a trust domain whose bundle is unreadable, keeping the last good one when there is one', async () => {
    const fake = await fakeAgent();
    const log = eventLog();
    const trust = source(fake, { onEvent: log.onEvent });
    await trust.waitForReady(10_000);
    const good = trust.getBundle(EXAMPLE);
    fake.setBundles({
      'spiffe://example.org': '{"keys": [{"kty": "EC"', // truncated
      'spiffe://broken.example': '{"keys": "nope"}',
      'spiffe://example.org/not-a-trust-domain': fake.trustDomain.jwks,
    });
    await waitFor(() => trust.trustDomains.includes('broken.example'), 'the broken trust domain');
    expect(trust.getBundle(EXAMPLE)).toBe(good);
    expect(() => trust.getBundle(TrustDomain.parse('broken.example'))).toThrow(TrustUnavailableError);
    const failed = log.named('bundle.refresh_failed').map((event) => event.attributes['error.type']);
    expect(failed.sort()).toEqual(['invalid_trust_domain', 'keys_missing', 'malformed_json']);
    // Stale: only where a last good bundle is still served.
    expect(log.named('bundle.stale').map((event) => event.attributes)).toEqual([
      expect.objectContaining({ 'wimse.trust_domain': 'example.org', 'error.type': 'malformed_json' }),
    ]);
  });

  it('recovers from a server restart with only an event: requests keep being authenticated', async () => {
    const fake = await fakeAgent();
    const log = eventLog();
    const trust = source(fake, { onEvent: log.onEvent });
    await trust.waitForReady(10_000);
    const authenticator = createAuthenticator({ trust, audience: { values: [AUDIENCE] } });
    const token = fake.trustDomain.issueJwtSvid({ sub: '/billing', aud: AUDIENCE });
    const bundle = trust.getBundle(EXAMPLE);

    await fake.stop();
    await waitFor(() => log.named('bundle.stale').length > 0, 'the stale event');
    // While the agent is away, the last bundles stay in use.
    expect((await authenticator.authenticate(bearer(token))).id).toBe('spiffe://example.org/billing');

    await fake.start();
    await waitFor(() => fake.openBundleStreams === 1, 'the re-opened stream');
    expect(log.named('bundle.refresh_failed')[0]?.attributes).toMatchObject({
      'wimse.bundle_source': 'workload-api',
      'server.address': fake.socketPath,
      'error.type': 'unavailable',
      'wimse.retrying': true,
    });
    expect(log.named('bundle.stale')[0]?.attributes).toMatchObject({
      'error.type': 'unavailable',
      'wimse.bundle.age_ms': expect.any(Number),
    });
    // Same keys after the restart: same bundle object, no update event beyond the first.
    await waitFor(() => fake.calls.FetchJWTBundles >= 2, 'the second stream');
    expect(trust.getBundle(EXAMPLE)).toBe(bundle);
    expect(log.named('bundle.updated')).toHaveLength(1);
    fake.rotate();
    await waitFor(() => trust.getBundle(EXAMPLE) !== bundle, 'an update over the new stream');
  });

  it('re-opens a cleanly ended stream at once', async () => {
    const fake = await fakeAgent();
    const log = eventLog();
    const trust = source(fake, { onEvent: log.onEvent, backoff: { initialMs: 60_000, maxMs: 60_000 } });
    await trust.waitForReady(10_000);
    fake.endBundleStreams();
    // The backoff is a minute: only an immediate reconnect passes this bounded wait.
    await waitFor(
      () => fake.calls.FetchJWTBundles === 2 && fake.openBundleStreams === 1,
      'the re-opened stream',
    );
    expect(log.named('bundle.refresh_failed')).toHaveLength(0);
    expect(log.named('bundle.stale')).toHaveLength(0);
  });

  it('retries PERMISSION_DENIED with backoff until the agent grants an identity', async () => {
    const fake = await fakeAgent();
    fake.failNext(3, GrpcStatus.PERMISSION_DENIED, { method: 'FetchJWTBundles' });
    const log = eventLog();
    const trust = source(fake, { onEvent: log.onEvent });
    await trust.waitForReady(10_000);
    expect(fake.calls.FetchJWTBundles).toBe(4);
    expect(trust.getBundle(EXAMPLE)).toBeDefined();
    const failed = log.named('bundle.refresh_failed');
    expect(failed.map((event) => event.attributes['error.type'])).toEqual([
      'permission_denied',
      'permission_denied',
      'permission_denied',
    ]);
    // Nothing was served yet, so nothing was stale.
    expect(log.named('bundle.stale')).toHaveLength(0);
    // Exponential: each announced delay falls in [base/2, base] for base 20, 40, 80 ms.
    const delays = failed.map((event) => Number(event.attributes['wimse.retry_in_ms']));
    expect(delays[0]).toBeGreaterThanOrEqual(10);
    expect(delays[0]).toBeLessThanOrEqual(20);
    expect(delays[2]).toBeGreaterThanOrEqual(40);
    expect(delays[2]).toBeLessThanOrEqual(80);
  });

  it('does not retry INVALID_ARGUMENT or UNIMPLEMENTED: ready rejects and trust fails closed', async () => {
    for (const code of [GrpcStatus.INVALID_ARGUMENT, GrpcStatus.UNIMPLEMENTED]) {
      const fake = await fakeAgent();
      fake.failNext(1, code, { method: 'FetchJWTBundles' });
      const trust = source(fake);
      await expect(trust.ready).rejects.toMatchObject({ retryable: false });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(fake.calls.FetchJWTBundles).toBe(1);
      expect(() => trust.getBundle(EXAMPLE)).toThrow(TrustUnavailableError);
    }
  });

  it('fails closed once the stream has been down longer than maxStalenessMs, and recovers with it', async () => {
    const fake = await fakeAgent();
    let now = 1_000_000;
    const log = eventLog();
    const trust = source(fake, { maxStalenessMs: 60_000, now: () => now, onEvent: log.onEvent });
    await trust.waitForReady(10_000);
    const bundle = trust.getBundle(EXAMPLE);
    await fake.stop();
    await waitFor(() => log.named('bundle.stale').length > 0, 'the source to notice the outage');
    now += 59_000;
    // Within the bound: the last bundle.
    expect(trust.getBundle(EXAMPLE)).toBe(bundle);
    now += 2_000;
    expect(() => trust.getBundle(EXAMPLE)).toThrow(TrustUnavailableError);
    await fake.start();
    await waitFor(() => {
      try {
        return trust.getBundle(EXAMPLE) === bundle;
      } catch {
        return false;
      }
    }, 'trust to come back with the stream');
  });

  it('close() ends the stream, rejects a pending ready and makes getBundle fail closed', async () => {
    const fake = await fakeAgent();
    const trust = new WorkloadApiBundleSource({ endpoint: fake.endpoint });
    await trust.ready;
    await waitFor(() => fake.openBundleStreams === 1, 'the open stream');
    await trust.close();
    await waitFor(() => fake.openBundleStreams === 0, 'the server to see the stream end');
    expect(() => trust.getBundle(EXAMPLE)).toThrow(TrustUnavailableError);

    await fake.stop();
    const never = new WorkloadApiBundleSource({ endpoint: fake.endpoint, backoff: FAST_BACKOFF });
    await never[Symbol.asyncDispose]();
    await expect(never.ready).rejects.toThrow(TrustUnavailableError);
  });

  it('uses a given client without closing it', async () => {
    const fake = await fakeAgent();
    const client = new WorkloadApiClient({ endpoint: fake.endpoint });
    cleanups.push(() => client.close());
    const trust = new WorkloadApiBundleSource({ client });
    await trust.waitForReady(10_000);
    await trust.close();
    expect(client.closed).toBe(false);
    expect((await client.fetchJwtSvid({ audience: AUDIENCE })).spiffeId).toBe(
      'spiffe://example.org/workload',
    );
  });

  it("keeps the authenticator's verified-token cache across identical messages, not across a rotation", async () => {
    const fake = await fakeAgent();
    const trust = source(fake);
    await trust.waitForReady(10_000);
    const cacheEvents = eventLog();
    const authenticator = createAuthenticator({
      trust,
      audience: { values: [AUDIENCE] },
      onEvent: cacheEvents.onEvent,
    });
    const token = fake.trustDomain.issueJwtSvid({ sub: '/billing', aud: AUDIENCE });
    const outcomes = () =>
      cacheEvents.events.filter((event) => event.name.startsWith('cache.')).map((event) => event.name);

    // Cached from its second verification on.
    await authenticator.authenticate(bearer(token));
    await authenticator.authenticate(bearer(token));
    // Identical bundles, then a message that visibly changes something else (so all have arrived).
    fake.publishBundles();
    fake.publishBundles();
    const other = createTestTrustDomain('other.example');
    // The same JWT-SVID keys, written exactly as the fake agent writes them.
    const sameKeys = { keys: fake.trustDomain.bundle.keys.filter((key) => key.use === 'jwt-svid') };
    for (const key of sameKeys.keys) delete (key as { use?: string }).use;
    fake.setBundles({ 'spiffe://example.org': sameKeys, 'spiffe://other.example': other.jwks });
    await waitFor(() => trust.trustDomains.includes('other.example'), 'the barrier message');
    await authenticator.authenticate(bearer(token));
    expect(outcomes()).toEqual(['cache.miss', 'cache.miss', 'cache.hit']);

    // A rotation is a new bundle object: the token is verified again (and still valid).
    const before = trust.getBundle(EXAMPLE);
    fake.setBundles(undefined);
    fake.rotate();
    await waitFor(() => trust.getBundle(EXAMPLE) !== before, 'the rotated bundle');
    await authenticator.authenticate(bearer(token));
    expect(outcomes()).toEqual(['cache.miss', 'cache.miss', 'cache.hit', 'cache.miss']);
  });
});
