import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  isBase64UrlSegment,
  sha256Base64Url,
  sha256Key,
  timingSafeEqualString,
} from '../src/util/base64url.js';

interface HashVector {
  id: string;
  source: string;
  input: string;
  algorithm: string;
  output_encoding: string;
  expected: string;
}

const file = new URL('../../../../shared/vectors/draft/wimse-hash-vectors.json', import.meta.url);
const { vectors } = JSON.parse(readFileSync(file, 'utf8')) as { vectors: HashVector[] };

describe('wimse-hash-vectors.json', () => {
  test('holds the documented number of vectors, all SHA-256', () => {
    expect(vectors).toHaveLength(9);
    expect(vectors.every((v) => v.algorithm === 'SHA-256')).toBe(true);
  });

  const base64UrlVectors = vectors.filter((v) => v.output_encoding === 'base64url-nopad');

  test('covers the wth, ath, tth and oth vectors', () => {
    expect(base64UrlVectors).toHaveLength(8);
  });

  test.each(base64UrlVectors.map((v) => [`${v.id} [${v.source.slice(0, 100)}]`, v] as const))(
    'sha256Base64Url: %s',
    (_, vector) => {
      const hash = sha256Base64Url(vector.input);
      expect(hash).toBe(vector.expected);
      expect(isBase64UrlSegment(hash)).toBe(true);
      expect(hash).toHaveLength(43);
    },
  );

  // Not a base64url value, but checking it proves the file (including the input's trailing
  // newlines) is read byte for byte.
  test('content-digest vector matches standard padded base64', () => {
    const vector = vectors.find((v) => v.output_encoding === 'base64-std-padded');
    expect(vector).toBeDefined();
    if (vector === undefined) return;
    expect(createHash('sha256').update(vector.input, 'utf8').digest('base64')).toBe(vector.expected);
    expect(sha256Base64Url(vector.input)).toBe(
      vector.expected.replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_'),
    );
  });
});

describe('sha256Base64Url', () => {
  test('hashes the empty string', () => {
    expect(sha256Base64Url('')).toBe('47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU');
  });

  test('hashes non-ASCII text as UTF-8', () => {
    expect(sha256Base64Url('é')).toBe(
      createHash('sha256')
        .update(Buffer.from([0xc3, 0xa9]))
        .digest('base64url'),
    );
  });
});

describe('sha256Key', () => {
  test('is the SHA-256 digest of the UTF-8 bytes, one character per byte', () => {
    for (const value of ['', 'é', 'eyJhbGciOiJFUzI1NiJ9.e30.c2ln']) {
      const key = sha256Key(value);
      expect(key).toHaveLength(32);
      expect(Buffer.from(key, 'latin1').toString('base64url')).toBe(sha256Base64Url(value));
    }
  });

  test('differs for tokens differing in one character', () => {
    expect(sha256Key('a.b.c')).not.toBe(sha256Key('a.b.d'));
  });
});

describe('timingSafeEqualString', () => {
  test('equal strings', () => {
    expect(timingSafeEqualString('', '')).toBe(true);
    expect(timingSafeEqualString('abc', 'abc')).toBe(true);
    expect(
      timingSafeEqualString(
        'AaYUfC34D1di2FxQLpiIJJ7Sg8VZ6o8OCdwSf9IToLg',
        'AaYUfC34D1di2FxQLpiIJJ7Sg8VZ6o8OCdwSf9IToLg',
      ),
    ).toBe(true);
    expect(timingSafeEqualString('café€😀', 'café€😀')).toBe(true);
  });

  test('different strings of equal length', () => {
    expect(timingSafeEqualString('abc', 'abd')).toBe(false);
    expect(timingSafeEqualString('abc', 'ABC')).toBe(false);
    expect(timingSafeEqualString('xbc', 'abc')).toBe(false);
  });

  test('different lengths', () => {
    expect(timingSafeEqualString('abc', 'abcd')).toBe(false);
    expect(timingSafeEqualString('', 'a')).toBe(false);
    expect(timingSafeEqualString('abc', 'ab')).toBe(false);
  });

  test('lone surrogates are not conflated (UTF-8 would map both to U+FFFD)', () => {
    expect(timingSafeEqualString('a\uD800', 'a\uDFFF')).toBe(false);
    expect(timingSafeEqualString('a\uD800', 'a\uFFFD')).toBe(false);
    expect(timingSafeEqualString('a\uD800', 'a\uD800')).toBe(true);
  });

  test('same UTF-8 byte length but different text', () => {
    // 'é' is two UTF-8 bytes, like 'ab', yet one UTF-16 unit.
    expect(timingSafeEqualString('é', 'ab')).toBe(false);
  });
});

describe('isBase64UrlSegment', () => {
  test.each(['A', 'abc', 'AZaz09-_', 'eyJhbGciOiJFUzI1NiJ9', '_-_-'])('accepts %j', (value) => {
    expect(isBase64UrlSegment(value)).toBe(true);
  });

  test.each(['', 'abc=', 'ab==', 'a+b', 'a/b', 'a.b', 'a b', ' abc', 'abc\n', 'é', 'a\u0000b', '\uFF41'])(
    'rejects %j',
    (value) => {
      expect(isBase64UrlSegment(value)).toBe(false);
    },
  );

  test('is linear on long input', () => {
    expect(isBase64UrlSegment('a'.repeat(1_000_000))).toBe(true);
    expect(isBase64UrlSegment(`${'a'.repeat(1_000_000)}=`)).toBe(false);
  });
});
