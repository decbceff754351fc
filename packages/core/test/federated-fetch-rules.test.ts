// The small rules under the remote sources: Cache-Control parsing, URL acceptance, the key
// count cap of the bundle parsers.
import { describe, expect, it } from 'vitest';
import { InvalidBundleError, JwtBundle } from '../src/index.js';
import { cacheMaxAgeSeconds, parseTrustUrl } from '../src/trust/remote-fetch.js';

describe('cacheMaxAgeSeconds', () => {
  it.each([
    [null, undefined],
    ['public', undefined],
    ['max-age=60', 60],
    ['public, max-age=120, must-revalidate', 120],
    ['MAX-AGE="30"', 30],
    ['max-age=-1', undefined],
    ['max-age=1e3', undefined],
    ['max-age=99999999999', undefined],
    ['no-cache', 0],
    ['max-age=60, no-store', 0],
  ])('%s → %s', (header, expected) => {
    expect(cacheMaxAgeSeconds(header)).toBe(expected);
  });
});

describe('parseTrustUrl', () => {
  it('accepts https, and http only when allowed', () => {
    expect(parseTrustUrl('https://bundles.example/b', false, 'url').href).toBe('https://bundles.example/b');
    expect(() => parseTrustUrl('http://bundles.example/b', false, 'url')).toThrow(/allowInsecureHttp/);
    expect(parseTrustUrl('http://127.0.0.1:8080/b', true, 'url').protocol).toBe('http:');
  });

  it.each([
    'ftp://bundles.example/b',
    'file:///etc/passwd',
    'https://u@bundles.example/b',
    'https://b.example/#x',
    '//b.example',
  ])('refuses %s', (url) => {
    expect(() => parseTrustUrl(url, true, 'url')).toThrow(TypeError);
  });
});

describe('maxKeys of the bundle parsers', () => {
  const keys = Array.from({ length: 5 }, (_, index) => ({ kty: 'oct', kid: `k${index}` }));

  it('refuses a document with more entries than maxKeys, counting entries it would skip', () => {
    for (const parse of [
      () => JwtBundle.fromSpiffeBundle('example.org', { keys }, { maxKeys: 4 }),
      () => JwtBundle.fromJwks('example.org', { keys }, { maxKeys: 4 }),
    ]) {
      expect(parse).toThrow(InvalidBundleError);
      try {
        parse();
      } catch (error) {
        expect((error as InvalidBundleError).reason).toBe('too_many_keys');
      }
    }
    expect(JwtBundle.fromSpiffeBundle('example.org', { keys }, { maxKeys: 5 }).keys).toHaveLength(0);
    expect(JwtBundle.fromJwks('example.org', { keys }).keys).toHaveLength(0);
  });
});
