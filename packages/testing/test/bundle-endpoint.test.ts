import { JwtBundle } from '@wimse-auth/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type BundleEndpoint, createTestTrustDomain, serveBundleEndpoint } from '../src/index.js';

let endpoint: BundleEndpoint | undefined;

afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
});

describe('serveBundleEndpoint', () => {
  it('serves the SPIFFE bundle as application/json on 127.0.0.1, following rotation', async () => {
    const td = createTestTrustDomain('example.org');
    endpoint = await serveBundleEndpoint(td);
    expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/bundle$/);

    const response = await fetch(endpoint.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const bundle = JwtBundle.fromSpiffeBundle('example.org', await response.text());
    expect(bundle.sequence).toBe(1n);
    expect(bundle.keys.map((key) => key.kid)).toEqual(['wit-1', 'jwt-1']);

    td.rotateKeys();
    const rotated = JwtBundle.fromSpiffeBundle('example.org', await (await fetch(endpoint.url)).text());
    expect(rotated.sequence).toBe(2n);
    expect(rotated.keys).toHaveLength(4);
    expect(endpoint.requests).toBe(2);
  });

  it('answers HEAD without a body and refuses other methods', async () => {
    endpoint = await serveBundleEndpoint(createTestTrustDomain('example.org'));
    const head = await fetch(endpoint.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const post = await fetch(endpoint.url, { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('serves whatever a provider function returns', async () => {
    let document: object | string = { keys: [] };
    endpoint = await serveBundleEndpoint(async () => document);
    expect(await (await fetch(endpoint.url)).json()).toEqual({ keys: [] });
    document = '{"keys":[],"spiffe_sequence":7}';
    expect(JwtBundle.fromSpiffeBundle('example.org', await (await fetch(endpoint.url)).text()).sequence).toBe(
      7n,
    );
  });

  it('answers 500 when the provider fails, and close() stops the server', async () => {
    endpoint = await serveBundleEndpoint(() => {
      throw new Error('boom');
    });
    expect((await fetch(endpoint.url)).status).toBe(500);
    const { url } = endpoint;
    await endpoint.close();
    endpoint = undefined;
    await expect(fetch(url)).rejects.toThrow();
  });
});
