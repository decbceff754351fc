import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TrustDomain } from '../src/identifiers/spiffe-id.js';
import type { InvalidBundleReason } from '../src/trust/jwt-bundle.js';
import { InvalidBundleError, JwtBundle } from '../src/trust/jwt-bundle.js';
import { StaticBundleSource } from '../src/trust/static-bundle-source.js';

interface BundleCase {
  id: string;
  parser: 'jwt_bundle_jwks' | 'spiffe_bundle' | 'spiffe_bundle_map';
  trust_domain: string;
  document?: unknown;
  document_raw?: string;
  expected: {
    valid: boolean;
    jwt_authority_kids?: string[];
    wit_authority_kids?: string[];
    keys_total_per_test?: number;
    sequence_number?: number;
    refresh_hint_seconds?: number;
    trust_domains?: string[];
  };
}

// The reason each invalid case must be rejected for (the vectors record go-spiffe's messages).
const EXPECTED_REASONS: Readonly<Record<string, InvalidBundleReason>> = {
  'jwks-missing-kid': 'missing_kid',
  'jwks-empty-input': 'malformed_json',
  'spiffe-bundle-missing-kid': 'missing_kid',
  'spiffe-bundle-no-keys': 'keys_missing',
  'spiffe-bundle-multiple-x509': 'invalid_x509_svid_entry',
};

const vectors = JSON.parse(
  readFileSync(new URL('../../../../shared/vectors/draft/spiffe-bundle-cases.json', import.meta.url), 'utf8'),
) as { cases: BundleCase[] };

// Vectors are parsed from text, as a bundle would arrive, so the strict parser is exercised.
function documentText(testCase: BundleCase): string {
  if (testCase.document_raw !== undefined) return testCase.document_raw;
  return typeof testCase.document === 'string' ? testCase.document : JSON.stringify(testCase.document);
}

function parse(testCase: BundleCase): JwtBundle | StaticBundleSource {
  const text = documentText(testCase);
  switch (testCase.parser) {
    case 'jwt_bundle_jwks':
      return JwtBundle.fromJwks(testCase.trust_domain, text);
    case 'spiffe_bundle':
      return JwtBundle.fromSpiffeBundle(testCase.trust_domain, text);
    case 'spiffe_bundle_map':
      return StaticBundleSource.fromBundleMap(text);
  }
}

function kids(bundle: JwtBundle, purpose: 'jwt-svid' | 'wit-svid', allowUnmarked: boolean): string[] {
  return bundle.keysFor(purpose, allowUnmarked).map((key) => key.kid);
}

describe('spiffe-bundle-cases.json', () => {
  it('has cases for every parser', () => {
    expect(new Set(vectors.cases.map((c) => c.parser))).toEqual(
      new Set(['jwt_bundle_jwks', 'spiffe_bundle', 'spiffe_bundle_map']),
    );
  });

  for (const testCase of vectors.cases) {
    const { expected } = testCase;
    it(`${testCase.id} (${testCase.parser}) is ${expected.valid ? 'valid' : 'invalid'}`, () => {
      if (!expected.valid) {
        let thrown: unknown;
        try {
          parse(testCase);
        } catch (error) {
          thrown = error;
        }
        expect(thrown).toBeInstanceOf(InvalidBundleError);
        expect((thrown as InvalidBundleError).reason).toBe(EXPECTED_REASONS[testCase.id]);
        return;
      }
      const parsed = parse(testCase);
      if (parsed instanceof StaticBundleSource) {
        if (expected.trust_domains !== undefined) {
          expect(parsed.trustDomains().map((td) => td.name)).toEqual(expected.trust_domains);
          for (const name of expected.trust_domains) {
            expect(parsed.getBundle(TrustDomain.parse(name))?.trustDomain.name).toBe(name);
          }
        }
        return;
      }

      expect(parsed.trustDomain.name).toBe(testCase.trust_domain);
      // A plain JWKS marks no use, so its keys count only when unmarked keys are allowed.
      const allowUnmarked = testCase.parser === 'jwt_bundle_jwks';
      if (expected.jwt_authority_kids !== undefined) {
        expect(kids(parsed, 'jwt-svid', allowUnmarked)).toEqual(expected.jwt_authority_kids);
      }
      if (expected.wit_authority_kids !== undefined) {
        expect(kids(parsed, 'wit-svid', allowUnmarked)).toEqual(expected.wit_authority_kids);
      }
      if (expected.keys_total_per_test !== undefined) {
        expect(parsed.keys).toHaveLength(expected.keys_total_per_test);
      }
      if (expected.sequence_number !== undefined) {
        expect(parsed.sequence).toBe(BigInt(expected.sequence_number));
      }
      if (expected.refresh_hint_seconds !== undefined) {
        expect(parsed.refreshHintSeconds).toBe(expected.refresh_hint_seconds);
      }
      // `x509_authorities` is not asserted: X.509 entries are validated but not kept.
    });
  }

  it('parses the same documents given as objects', () => {
    for (const testCase of vectors.cases) {
      if (!testCase.expected.valid || typeof testCase.document !== 'object') continue;
      const document = testCase.document as object;
      if (testCase.parser === 'spiffe_bundle') {
        expect(JwtBundle.fromSpiffeBundle(testCase.trust_domain, document).toJwks()).toEqual(
          JwtBundle.fromSpiffeBundle(testCase.trust_domain, documentText(testCase)).toJwks(),
        );
      }
    }
  });
});
