import { describe, expect, test } from 'vitest';
import {
  InvalidSpiffeIdError,
  type InvalidSpiffeIdReason,
  SpiffeId,
  TrustDomain,
} from '../src/identifiers/spiffe-id.js';

function reasonOf(run: () => unknown): InvalidSpiffeIdReason | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidSpiffeIdError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('SpiffeId', () => {
  test('exposes trust domain, path and segments', () => {
    const id = SpiffeId.parse('spiffe://example.org/ns/prod/sa/web');
    expect(id.trustDomain.name).toBe('example.org');
    expect(id.path).toBe('/ns/prod/sa/web');
    expect(id.segments).toEqual(['ns', 'prod', 'sa', 'web']);
  });

  test('the trust domain ID has no path and no segments', () => {
    const id = SpiffeId.parse('spiffe://example.org');
    expect(id.path).toBe('');
    expect(id.segments).toEqual([]);
    expect(id.trustDomain.id).toBe('spiffe://example.org');
  });

  test('memberOf compares trust domains exactly, by object or by name', () => {
    const id = SpiffeId.parse('spiffe://example.org/service');
    expect(id.memberOf('example.org')).toBe(true);
    expect(id.memberOf(TrustDomain.parse('example.org'))).toBe(true);
    expect(id.memberOf('sub.example.org')).toBe(false);
    expect(id.memberOf('example.or')).toBe(false);
    expect(id.memberOf('Example.org')).toBe(false);
    expect(SpiffeId.parse('spiffe://evil-example.org/service').memberOf('example.org')).toBe(false);
  });

  test('equals compares the full ID exactly', () => {
    const id = SpiffeId.parse('spiffe://example.org/Service');
    expect(id.equals('spiffe://example.org/Service')).toBe(true);
    expect(id.equals(SpiffeId.parse('spiffe://example.org/Service'))).toBe(true);
    expect(id.equals('spiffe://example.org/service')).toBe(false);
    expect(id.equals(SpiffeId.parse('spiffe://example.org/Service/x'))).toBe(false);
    expect(id.equals(SpiffeId.parse('spiffe://example.com/Service'))).toBe(false);
  });

  test('toString and toJSON return the ID as given', () => {
    const id = SpiffeId.parse('spiffe://example.org/a/b');
    expect(String(id)).toBe('spiffe://example.org/a/b');
    expect(JSON.stringify({ id })).toBe('{"id":"spiffe://example.org/a/b"}');
  });

  test('tryParse returns undefined instead of throwing', () => {
    expect(SpiffeId.tryParse('spiffe://example.org/a')?.path).toBe('/a');
    expect(SpiffeId.tryParse('spiffe://example.org/a/')).toBeUndefined();
    expect(SpiffeId.tryParse('')).toBeUndefined();
  });

  test.each([
    ['', 'empty'],
    ['http://example.org/a', 'invalid_scheme'],
    ['spiffe://', 'missing_trust_domain'],
    ['spiffe://exa$mple.org', 'invalid_trust_domain_character'],
    [`spiffe://${'a'.repeat(256)}`, 'trust_domain_too_long'],
    ['spiffe://example.org//a', 'empty_segment'],
    ['spiffe://example.org/a/../b', 'dot_segment'],
    ['spiffe://example.org/a%20b', 'invalid_path_character'],
    ['spiffe://example.org/a/', 'trailing_slash'],
  ] as const)('parse(%j) fails with reason %s', (input, reason) => {
    expect(reasonOf(() => SpiffeId.parse(input))).toBe(reason);
  });

  test('error messages never contain the input', () => {
    const secret = 'topsecretmarker';
    const inputs = [
      `https://${secret}/x`,
      `spiffe://${secret}$/x`,
      `spiffe://example.org/${secret}/`,
      `spiffe://example.org/${secret}?q`,
      `spiffe://${secret.repeat(20)}`,
    ];
    for (const input of inputs) {
      try {
        SpiffeId.parse(input);
        expect.unreachable(`accepted ${input}`);
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidSpiffeIdError);
        expect((error as Error).message).not.toContain(secret);
        expect((error as Error).name).toBe('InvalidSpiffeIdError');
      }
    }
  });

  describe('fromSegments', () => {
    test('joins segments under the trust domain', () => {
      expect(SpiffeId.fromSegments('example.org', 'ns', 'prod').toString()).toBe(
        'spiffe://example.org/ns/prod',
      );
      expect(SpiffeId.fromSegments(TrustDomain.parse('example.org')).toString()).toBe('spiffe://example.org');
    });

    test('accepts a SPIFFE ID as the trust domain, reduced to its trust domain', () => {
      expect(SpiffeId.fromSegments('spiffe://example.org/other', 'a').toString()).toBe(
        'spiffe://example.org/a',
      );
    });

    test.each([
      [['a/b'], 'invalid_path_character'],
      [['a', ''], 'empty_segment'],
      [['.'], 'dot_segment'],
      [['..'], 'dot_segment'],
      [['a b'], 'invalid_path_character'],
    ] as const)('rejects segments %j with %s', (segments, reason) => {
      expect(reasonOf(() => SpiffeId.fromSegments('example.org', ...segments))).toBe(reason);
    });

    test('rejects an invalid trust domain', () => {
      expect(reasonOf(() => SpiffeId.fromSegments('Example.org', 'a'))).toBe(
        'invalid_trust_domain_character',
      );
    });
  });
});

describe('TrustDomain', () => {
  test('parses a name or a SPIFFE ID', () => {
    expect(TrustDomain.parse('example.org').name).toBe('example.org');
    expect(TrustDomain.parse('spiffe://example.org/ns/a').name).toBe('example.org');
  });

  test('equals compares names exactly', () => {
    const trustDomain = TrustDomain.parse('example.org');
    expect(trustDomain.equals('example.org')).toBe(true);
    expect(trustDomain.equals(TrustDomain.parse('spiffe://example.org'))).toBe(true);
    expect(trustDomain.equals('example.com')).toBe(false);
    expect(String(trustDomain)).toBe('example.org');
    expect(JSON.stringify(trustDomain)).toBe('"example.org"');
  });

  test.each([
    ['', 'missing_trust_domain'],
    ['Example.org', 'invalid_trust_domain_character'],
    ['example.org:443', 'invalid_trust_domain_character'],
    ['a'.repeat(256), 'trust_domain_too_long'],
    ['https://example.org', 'invalid_scheme'],
  ] as const)('parse(%j) fails with reason %s', (input, reason) => {
    expect(reasonOf(() => TrustDomain.parse(input))).toBe(reason);
    expect(TrustDomain.tryParse(input)).toBeUndefined();
  });

  test('accepts a name of exactly 255 bytes', () => {
    expect(TrustDomain.parse('a'.repeat(255)).name).toHaveLength(255);
  });
});
