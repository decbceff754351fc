import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { InvalidSpiffeIdError, SpiffeId, TrustDomain } from '../src/identifiers/spiffe-id.js';
import {
  InvalidWorkloadIdentifierError,
  type InvalidWorkloadIdentifierReason,
  MAX_WORKLOAD_IDENTIFIER_LENGTH,
  WorkloadIdentifier,
} from '../src/identifiers/workload-identifier.js';

interface VectorCase {
  input: string;
  valid: boolean;
  source: string;
  reason?: string;
  kind?: string;
}

function readCases(name: string): VectorCase[] {
  const file = new URL(`../../../../shared/vectors/draft/${name}`, import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { cases: VectorCase[] }).cases;
}

const identifierCases = readCases('wimse-identifier-cases.json');
const spiffeIdCases = readCases('spiffe-id-cases.json').filter((c) => c.kind === 'spiffe_id');

// The vector file's reasons are prose; each maps to exactly one of our reason codes.
const REASON_BY_VECTOR_REASON: Record<string, InvalidWorkloadIdentifierReason> = {
  'query component': 'query',
  'fragment component': 'fragment',
  'user information': 'userinfo',
  'port component': 'port',
  'empty authority': 'empty_authority',
  'no authority component': 'missing_authority',
  'relative reference, not an absolute URI': 'not_absolute_uri',
  'network-path reference (no scheme)': 'not_absolute_uri',
};

function label(testCase: VectorCase): string {
  const shown =
    testCase.input.length > 60 ? `${testCase.input.slice(0, 60)}…(${testCase.input.length})` : testCase.input;
  return `${JSON.stringify(shown)} [${testCase.source.slice(0, 100)}]`;
}

function errorOf(run: () => unknown): InvalidWorkloadIdentifierError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidWorkloadIdentifierError) return error;
    throw error;
  }
  throw new Error('expected an InvalidWorkloadIdentifierError');
}

function reasonOf(input: string): InvalidWorkloadIdentifierReason {
  return errorOf(() => WorkloadIdentifier.parse(input)).reason;
}

describe('wimse-identifier-cases.json', () => {
  test('holds the documented number of cases', () => {
    expect(identifierCases).toHaveLength(19);
  });

  test.each(identifierCases.filter((c) => c.valid).map((c) => [label(c), c] as const))(
    'valid: %s',
    (_, testCase) => {
      const id = WorkloadIdentifier.parse(testCase.input);
      const schemeEnd = testCase.input.indexOf('://');
      const afterAuthority = testCase.input.indexOf('/', schemeEnd + 3);
      const authorityEnd = afterAuthority === -1 ? testCase.input.length : afterAuthority;

      expect(id.toString()).toBe(testCase.input);
      expect(id.toJSON()).toBe(testCase.input);
      expect(id.scheme).toBe(testCase.input.slice(0, schemeEnd));
      expect(id.trustDomain).toBe(testCase.input.slice(schemeEnd + 3, authorityEnd));
      expect(id.path).toBe(testCase.input.slice(authorityEnd));
      expect(id.spiffeId?.toString()).toBe(id.scheme === 'spiffe' ? testCase.input : undefined);
      expect(WorkloadIdentifier.tryParse(testCase.input)?.equals(id)).toBe(true);
    },
  );

  test.each(identifierCases.filter((c) => !c.valid).map((c) => [label(c), c] as const))(
    'invalid: %s',
    (_, testCase) => {
      const expected = testCase.reason === undefined ? undefined : REASON_BY_VECTOR_REASON[testCase.reason];
      expect(expected, 'every invalid case maps to a reason').toBeDefined();
      expect(reasonOf(testCase.input)).toBe(expected);
      expect(WorkloadIdentifier.tryParse(testCase.input)).toBeUndefined();
    },
  );
});

describe('spiffe-id-cases.json through WorkloadIdentifier', () => {
  test.each(spiffeIdCases.filter((c) => c.valid).map((c) => [label(c), c] as const))(
    'valid SPIFFE ID is a workload identifier: %s',
    (_, testCase) => {
      const id = WorkloadIdentifier.parse(testCase.input);
      expect(id.scheme).toBe('spiffe');
      expect(id.spiffeId).toBeInstanceOf(SpiffeId);
      expect(id.spiffeId?.toString()).toBe(testCase.input);
      expect(id.trustDomain).toBe(id.spiffeId?.trustDomain.name);
      expect(id.path).toBe(id.spiffeId?.path);
    },
  );

  // Only SPIFFE-scheme inputs: 'https://…' or 'wimse://…' are not SPIFFE IDs but are
  // perfectly good workload identifiers.
  const spiffeSchemeInvalid = spiffeIdCases.filter(
    (c) => !c.valid && c.input.toLowerCase().startsWith('spiffe:'),
  );

  test.each(spiffeSchemeInvalid.map((c) => [label(c), c] as const))(
    'invalid SPIFFE ID is not a workload identifier: %s',
    (_, testCase) => {
      const error = errorOf(() => WorkloadIdentifier.parse(testCase.input));
      if (error.reason === 'invalid_spiffe_id') {
        // The SPIFFE rule that failed is surfaced unchanged.
        const spiffeError = (() => {
          try {
            SpiffeId.parse(testCase.input);
          } catch (cause) {
            return cause as InvalidSpiffeIdError;
          }
          throw new Error('SpiffeId.parse accepted an invalid case');
        })();
        expect(error.spiffeReason).toBe(spiffeError.reason);
        expect(error.cause).toBeInstanceOf(InvalidSpiffeIdError);
      } else {
        expect(error.spiffeReason).toBeUndefined();
      }
    },
  );

  test('the SPIFFE-scheme filter keeps nearly all invalid cases', () => {
    expect(spiffeSchemeInvalid.length).toBeGreaterThanOrEqual(50);
  });
});

describe('WorkloadIdentifier', () => {
  test.each([
    ['', 'empty'],
    ['/specific-workload', 'not_absolute_uri'],
    ['1wimse://example.com/w', 'not_absolute_uri'],
    ['wi$mse://example.com/w', 'not_absolute_uri'],
    ['wimse', 'not_absolute_uri'],
    [' wimse://example.com/w', 'not_absolute_uri'],
    ['WIMSE://example.com/w', 'uppercase_scheme'],
    ['Spiffe://example.org/w', 'uppercase_scheme'],
    ['wimse:/example.com/w', 'missing_authority'],
    ['wimse:', 'missing_authority'],
    ['wimse://', 'empty_authority'],
    ['wimse://?q', 'empty_authority'],
    ['wimse://user:pass@example.com/w', 'userinfo'],
    ['wimse://@example.com/w', 'userinfo'],
    ['wimse://example.com:/w', 'port'],
    ['wimse://example.com:443', 'port'],
    ['wimse://[2001:db8::1]/w', 'ip_literal'],
    ['wimse://[v1.x]/w', 'ip_literal'],
    ['wimse://exa%6Dple.com/w', 'invalid_authority_character'],
    ['wimse://exa mple.com/w', 'invalid_authority_character'],
    ['wimse://bücher.example/w', 'invalid_authority_character'],
    ['wimse://example.com\\w', 'invalid_authority_character'],
    ['wimse://Example.com/w', 'uppercase_trust_domain'],
    ['wimse://example.com/a b', 'invalid_path_character'],
    ['wimse://example.com/café', 'invalid_path_character'],
    ['wimse://example.com/a\\b', 'invalid_path_character'],
    ['wimse://example.com/a\nb', 'invalid_path_character'],
    ['wimse://example.com/a%', 'invalid_percent_encoding'],
    ['wimse://example.com/a%2', 'invalid_percent_encoding'],
    ['wimse://example.com/a%zz', 'invalid_percent_encoding'],
    ['wimse://example.com/.', 'dot_segment'],
    ['wimse://example.com/a/../admin', 'dot_segment'],
    ['wimse://example.com/a/..', 'dot_segment'],
    ['wimse://example.com/%2e%2E/admin', 'dot_segment'],
    ['wimse://example.com/.%2e', 'dot_segment'],
    ['wimse://example.com/%2E', 'dot_segment'],
    ['wimse://example.com?q', 'query'],
    ['wimse://example.com/w?', 'query'],
    ['wimse://example.com#f', 'fragment'],
    ['spiffe://example.org/a%20b', 'invalid_spiffe_id'],
    ['spiffe://example.org/a/', 'invalid_spiffe_id'],
  ] as const)('parse(%j) fails with reason %s', (input, reason) => {
    expect(reasonOf(input)).toBe(reason);
  });

  test.each([
    'wimse://example.com',
    'wimse://example.com/',
    'wimse://example.com//a/',
    "wimse://example.com/a:b@c/~d/!$&'()*+,;=",
    'wimse://example.com/%E2%82%AC/%2f/%2e%2e%2e/...',
    'wimse://sub_domain.-example-.com/w',
    "wimse://a!$&'()*+,;=~b/w",
    'wimse://192.0.2.10/w',
    'https://example.com/w',
    'sparfe://trustdomain/path',
    'a+b-c.d://example.com/w',
  ])('accepts %j', (input) => {
    expect(WorkloadIdentifier.parse(input).toString()).toBe(input);
  });

  test('only spiffe identifiers carry a SpiffeId', () => {
    expect(WorkloadIdentifier.parse('wimse://example.org/w').spiffeId).toBeUndefined();
    expect(WorkloadIdentifier.parse('spiffe://example.org/w').spiffeId?.path).toBe('/w');
  });

  test('SPIFFE failures name the SPIFFE rule', () => {
    // Empty segments are fine in a generic URI path, so only the SPIFFE rules catch this one.
    const error = errorOf(() => WorkloadIdentifier.parse('spiffe://example.org/a//b'));
    expect(error.reason).toBe('invalid_spiffe_id');
    expect(error.spiffeReason).toBe('empty_segment');
    expect(error.message).toContain('empty segments');
    expect(errorOf(() => WorkloadIdentifier.parse('wimse://example.com?q')).spiffeReason).toBeUndefined();
  });

  describe('length', () => {
    const prefix = 'wimse://example.com/';

    test('accepts exactly the maximum length', () => {
      const input = prefix + 'a'.repeat(MAX_WORKLOAD_IDENTIFIER_LENGTH - prefix.length);
      expect(WorkloadIdentifier.parse(input).path).toHaveLength(
        MAX_WORKLOAD_IDENTIFIER_LENGTH - prefix.length + 1,
      );
    });

    test('supports at least the 2048 bytes the draft requires', () => {
      expect(MAX_WORKLOAD_IDENTIFIER_LENGTH).toBeGreaterThanOrEqual(2048);
      expect(WorkloadIdentifier.tryParse(prefix + 'a'.repeat(2048 - prefix.length))).toBeDefined();
    });

    test('rejects one byte more, and huge input, before scanning it', () => {
      expect(reasonOf(prefix + 'a'.repeat(MAX_WORKLOAD_IDENTIFIER_LENGTH - prefix.length + 1))).toBe(
        'too_long',
      );
      // Starts out invalid: the cap is checked first, so no scan over 10 MB takes place.
      expect(reasonOf(`/${'a'.repeat(10_000_000)}`)).toBe('too_long');
    });
  });

  test('rejects non-string values from untyped JSON claims', () => {
    for (const value of [42, null, undefined, {}, ['wimse://example.com/w']]) {
      expect(reasonOf(value as unknown as string)).toBe('not_a_string');
    }
  });

  test('memberOf compares the trust domain exactly', () => {
    const id = WorkloadIdentifier.parse('wimse://example.com/w');
    expect(id.memberOf('example.com')).toBe(true);
    expect(id.memberOf('sub.example.com')).toBe(false);
    expect(id.memberOf('example.co')).toBe(false);
    expect(WorkloadIdentifier.parse('wimse://evil-example.com/w').memberOf('example.com')).toBe(false);
  });

  test('memberOf with a SPIFFE TrustDomain only matches spiffe identifiers', () => {
    const trustDomain = TrustDomain.parse('example.org');
    expect(WorkloadIdentifier.parse('spiffe://example.org/w').memberOf(trustDomain)).toBe(true);
    expect(WorkloadIdentifier.parse('spiffe://example.com/w').memberOf(trustDomain)).toBe(false);
    expect(WorkloadIdentifier.parse('wimse://example.org/w').memberOf(trustDomain)).toBe(false);
    expect(WorkloadIdentifier.parse('wimse://example.org/w').memberOf('example.org')).toBe(true);
  });

  test('equals compares the complete URI exactly', () => {
    const id = WorkloadIdentifier.parse('wimse://example.com/Svc');
    expect(id.equals('wimse://example.com/Svc')).toBe(true);
    expect(id.equals(WorkloadIdentifier.parse('wimse://example.com/Svc'))).toBe(true);
    expect(id.equals('wimse://example.com/svc')).toBe(false);
    expect(id.equals('spiffe://example.com/Svc')).toBe(false);
    expect(id.equals(WorkloadIdentifier.parse('wimse://example.com/%53vc'))).toBe(false);
  });

  test('origin is scheme and trust domain', () => {
    expect(WorkloadIdentifier.parse('wimse://trust.corp.example.com/w/1').origin).toBe(
      'wimse://trust.corp.example.com',
    );
    expect(WorkloadIdentifier.parse('spiffe://prod.trust.domain').origin).toBe('spiffe://prod.trust.domain');
  });

  test('serialises as the URI string', () => {
    const id = WorkloadIdentifier.parse('wimse://example.com/w');
    expect(JSON.stringify({ sub: id })).toBe('{"sub":"wimse://example.com/w"}');
    expect(`${id}`).toBe('wimse://example.com/w');
  });

  test('error messages never contain the input', () => {
    const secret = 'topsecretmarker';
    const inputs = [
      `/${secret}`,
      `${secret}`,
      `WIMSE://${secret}/w`,
      `wimse:${secret}`,
      `wimse://${secret}@example.com/w`,
      `wimse://example.com:${secret}/w`,
      `wimse://[${secret}]/w`,
      `wimse://${secret}$%41/w`,
      `wimse://${secret.toUpperCase()}/w`,
      `wimse://example.com/${secret} `,
      `wimse://example.com/${secret}%`,
      `wimse://example.com/${secret}/..`,
      `wimse://example.com/w?${secret}`,
      `wimse://example.com/w#${secret}`,
      `spiffe://example.org/${secret}/`,
      `wimse://example.com/${secret.repeat(1000)}`,
    ];
    for (const input of inputs) {
      const error = errorOf(() => WorkloadIdentifier.parse(input));
      expect(error.name).toBe('InvalidWorkloadIdentifierError');
      expect(error.message.toLowerCase()).not.toContain(secret);
      expect(String(error.cause ?? '').toLowerCase()).not.toContain(secret);
    }
  });
});
