// The bundle endpoint's cache validators and injected faults, seen by a raw client and by
// the core's federatedBundleSource.
import { federatedBundleSource, JwtBundle, TrustDomain, TrustUnavailableError } from '@wimse-auth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type BundleEndpoint, createTestTrustDomain, serveBundleEndpoint } from '../src/index.js';

let endpoint: BundleEndpoint | undefined;
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
  await endpoint?.close();
  endpoint = undefined;
});

function timeout(ms: number): AbortSignal {
  return AbortSignal.timeout(ms);
}

describe('serveBundleEndpoint: validators', () => {
  it('sends an ETag and answers a matching If-None-Match with 304, until the bundle rotates', async () => {
    const td = createTestTrustDomain('example.org');
    endpoint = await serveBundleEndpoint(td, { cacheControl: 'max-age=60' });
    const first = await fetch(endpoint.url);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(first.headers.get('cache-control')).toBe('max-age=60');
    await first.text();

    const again = await fetch(endpoint.url, { headers: { 'if-none-match': etag ?? '' } });
    expect(again.status).toBe(304);
    expect(endpoint.notModified).toBe(1);

    td.rotateKeys();
    const rotated = await fetch(endpoint.url, { headers: { 'if-none-match': etag ?? '' } });
    expect(rotated.status).toBe(200);
    expect(rotated.headers.get('etag')).not.toBe(etag);
    expect(JwtBundle.fromSpiffeBundle('example.org', await rotated.text()).sequence).toBe(2n);
  });

  it('can leave validators out', async () => {
    endpoint = await serveBundleEndpoint(createTestTrustDomain('example.org'), { etag: false });
    const response = await fetch(endpoint.url);
    expect(response.headers.get('etag')).toBeNull();
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('serveBundleEndpoint: faults', () => {
  it('hangs, hangs mid-body, resets, returns garbage, an error status or 10,000 keys on demand', async () => {
    endpoint = await serveBundleEndpoint(createTestTrustDomain('example.org'));
    const url = endpoint.url;

    endpoint.setFault('hang');
    await expect(fetch(url, { signal: timeout(300) })).rejects.toThrow();

    endpoint.setFault('hang-mid-body');
    const partial = await fetch(url, { signal: timeout(300) });
    expect(partial.status).toBe(200);
    await expect(partial.text()).rejects.toThrow();

    endpoint.setFault('reset');
    await expect(fetch(url, { signal: timeout(2000) })).rejects.toThrow();

    endpoint.setFault('garbage');
    const garbage = await (await fetch(url)).text();
    expect(() => JwtBundle.fromSpiffeBundle('example.org', garbage)).toThrow();

    endpoint.setFault({ status: 503 });
    expect((await fetch(url)).status).toBe(503);

    endpoint.setFault('too-many-keys');
    const huge = await (await fetch(url)).text();
    expect(JwtBundle.fromSpiffeBundle('example.org', huge).keys).toHaveLength(10_000);

    endpoint.setFault(undefined);
    expect((await fetch(url)).status).toBe(200);
    // Seven requests; a client may retry the reset one on a fresh connection.
    expect(endpoint.requests).toBeGreaterThanOrEqual(7);
  });

  it('drives federatedBundleSource through an outage and back', async () => {
    const td = createTestTrustDomain('example.org');
    endpoint = await serveBundleEndpoint(td);
    let now = Date.UTC(2027, 0, 1);
    const trust = federatedBundleSource({
      trustDomain: 'example.org',
      url: endpoint.url,
      profile: 'https_web',
      allowInsecureHttp: true,
      requestTimeoutMs: 300,
      maxStalenessMs: 60_000,
      now: () => now,
    });
    closers.push(() => trust.close());
    await trust.ready;
    const domain = TrustDomain.parse('example.org');
    const loaded = await trust.getBundle(domain);
    expect(loaded?.keys).toHaveLength(2);

    await trust.refresh();
    expect(endpoint.notModified).toBe(1);
    expect(await trust.getBundle(domain)).toBe(loaded);

    endpoint.setFault('hang-mid-body');
    now += 30_000;
    await trust.refresh();
    expect(trust.status.lastFailure).toBe('timeout');
    expect(await trust.getBundle(domain)).toBe(loaded);

    endpoint.setFault('too-many-keys');
    now += 31_000;
    await trust.refresh();
    expect(trust.status.lastFailure).toBe('body_too_large');
    expect(() => trust.getBundle(domain)).toThrow(TrustUnavailableError);

    endpoint.setFault(undefined);
    td.rotateKeys();
    await trust.refresh();
    expect((await trust.getBundle(domain))?.keys).toHaveLength(4);
  });
});
