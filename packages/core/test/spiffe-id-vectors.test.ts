import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  InvalidSpiffeIdError,
  type InvalidSpiffeIdReason,
  SpiffeId,
  TrustDomain,
} from '../src/identifiers/spiffe-id.js';

interface SpiffeIdCase {
  input: string;
  kind: 'spiffe_id' | 'trust_domain_name_or_id';
  valid: boolean;
  source: string;
  reason?: string;
  go_spiffe_error?: string;
  go_spiffe_disagrees?: boolean;
  normalized_trust_domain?: string;
}

const file = new URL('../../../../shared/vectors/draft/spiffe-id-cases.json', import.meta.url);
const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: SpiffeIdCase[] };

// go-spiffe's error strings, mapped to our reasons, so each rejection is checked for the
// recorded cause and not merely rejected.
const REASON_BY_GO_SPIFFE_ERROR: Record<string, InvalidSpiffeIdReason> = {
  'cannot be empty': 'empty',
  'scheme is missing or invalid': 'invalid_scheme',
  'trust domain is missing': 'missing_trust_domain',
  'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores':
    'invalid_trust_domain_character',
  'path cannot contain empty segments': 'empty_segment',
  'path cannot contain dot segments': 'dot_segment',
  'path segment characters are limited to letters, numbers, dots, dashes, and underscores':
    'invalid_path_character',
  'path cannot have a trailing slash': 'trailing_slash',
};

/** The reason we expect: go-spiffe's error, or the case's own note where go-spiffe has none. */
function expectedReason(testCase: SpiffeIdCase): InvalidSpiffeIdReason | undefined {
  const goError = testCase.go_spiffe_error ?? testCase.reason;
  if (goError !== undefined && goError in REASON_BY_GO_SPIFFE_ERROR)
    return REASON_BY_GO_SPIFFE_ERROR[goError];
  if (testCase.go_spiffe_disagrees === true && testCase.reason?.startsWith('trust domain of 256 bytes')) {
    return 'trust_domain_too_long';
  }
  return undefined;
}

function label(testCase: SpiffeIdCase): string {
  const shown =
    testCase.input.length > 60 ? `${testCase.input.slice(0, 60)}…(${testCase.input.length})` : testCase.input;
  return `${JSON.stringify(shown)} [${testCase.source}]`;
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

const spiffeIdCases = cases.filter((c) => c.kind === 'spiffe_id');
const trustDomainCases = cases.filter((c) => c.kind === 'trust_domain_name_or_id');

describe('spiffe-id-cases.json', () => {
  test('holds the documented number of cases', () => {
    expect(spiffeIdCases).toHaveLength(94);
    expect(trustDomainCases).toHaveLength(8);
  });

  describe('valid SPIFFE IDs', () => {
    test.each(spiffeIdCases.filter((c) => c.valid).map((c) => [label(c), c] as const))(
      '%s',
      (_, testCase) => {
        const id = SpiffeId.parse(testCase.input);
        const afterScheme = testCase.input.slice('spiffe://'.length);
        const slash = afterScheme.indexOf('/');
        const expectedTrustDomain = slash === -1 ? afterScheme : afterScheme.slice(0, slash);
        const expectedPath = slash === -1 ? '' : afterScheme.slice(slash);

        expect(id.toString()).toBe(testCase.input);
        expect(id.toJSON()).toBe(testCase.input);
        expect(id.trustDomain.name).toBe(expectedTrustDomain);
        expect(id.path).toBe(expectedPath);
        expect(SpiffeId.parse(id.toString()).equals(id)).toBe(true);
      },
    );
  });

  describe('invalid SPIFFE IDs', () => {
    test.each(spiffeIdCases.filter((c) => !c.valid).map((c) => [label(c), c] as const))(
      '%s',
      (_, testCase) => {
        const error = catchError(() => SpiffeId.parse(testCase.input));
        expect(error).toBeInstanceOf(InvalidSpiffeIdError);
        const reason = expectedReason(testCase);
        expect(reason, 'every invalid case maps to a reason').toBeDefined();
        expect((error as InvalidSpiffeIdError).reason).toBe(reason);
        expect(SpiffeId.tryParse(testCase.input)).toBeUndefined();
      },
    );
  });

  describe('trust domain names or IDs', () => {
    test.each(trustDomainCases.map((c) => [label(c), c] as const))('%s', (_, testCase) => {
      if (testCase.valid) {
        const trustDomain = TrustDomain.parse(testCase.input);
        if (testCase.normalized_trust_domain !== undefined) {
          expect(trustDomain.name).toBe(testCase.normalized_trust_domain);
        }
        expect(trustDomain.id).toBe(`spiffe://${trustDomain.name}`);
        return;
      }
      const error = catchError(() => TrustDomain.parse(testCase.input));
      expect(error).toBeInstanceOf(InvalidSpiffeIdError);
      const reason = expectedReason(testCase);
      // 'port' is this file's own note, not a go-spiffe message: ':' is a bad character there.
      expect((error as InvalidSpiffeIdError).reason).toBe(reason ?? 'invalid_trust_domain_character');
      expect(TrustDomain.tryParse(testCase.input)).toBeUndefined();
    });
  });
});
