// The https_web shape: the bundle endpoint over TLS, with a certificate made for this run
// (test/support/tls.ts) and trusted by the client through `ca`.
import { get } from 'node:https';
import { JwtBundle } from '@wimse-auth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../../test/support/tls.js';
import { type BundleEndpoint, createTestTrustDomain, serveBundleEndpoint } from '../src/index.js';

let cert: Buffer;
let key: Buffer;
let endpoint: BundleEndpoint | undefined;

beforeAll(() => {
  ({ cert, key } = selfSignedCertificate());
});

afterAll(async () => {
  await endpoint?.close();
});

function fetchOverTls(url: string, ca: Buffer | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = get(url, ca === undefined ? { timeout: 5000 } : { ca, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

describe('serveBundleEndpoint over TLS', () => {
  it('serves the bundle on https to a client that trusts the certificate, and only to it', async () => {
    const td = createTestTrustDomain('example.org');
    endpoint = await serveBundleEndpoint(td, { tls: { cert, key } });
    expect(endpoint.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/bundle$/);

    const { status, body } = await fetchOverTls(endpoint.url, cert);
    expect(status).toBe(200);
    const bundle = JwtBundle.fromSpiffeBundle('example.org', body);
    expect(bundle.keysFor('wit-svid', false)).toHaveLength(1);

    await expect(fetchOverTls(endpoint.url, undefined)).rejects.toThrow(/self[- ]signed|certificate/i);
  });
});
