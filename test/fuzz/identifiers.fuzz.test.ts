// Fuzzes the identifier parsers (SpiffeId, TrustDomain, WorkloadIdentifier) against
// reference predicates written from SPIFFE-ID.md §2 and draft-ietf-wimse-identifier §4.1.
import {
  InvalidSpiffeIdError,
  InvalidWorkloadIdentifierError,
  MAX_WORKLOAD_IDENTIFIER_LENGTH,
  SpiffeId,
  TrustDomain,
  WorkloadIdentifier,
} from '@wimse-auth/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { recordHardeningFigure } from '../hostile/report.js';
import { attempt, fuzzParameters } from './targets.js';

const parameters = fuzzParameters();

/** SPIFFE-ID.md §2.1: lower-case letters, digits, ".", "-", "_"; at most 255 bytes. */
function referenceTrustDomainName(name: string): boolean {
  return /^[a-z0-9._-]+$/.test(name) && name.length <= 255;
}

/** SPIFFE-ID.md §2: `spiffe://` + trust domain + segments of [A-Za-z0-9._-], none empty, "." or "..". */
function referenceSpiffeId(value: string): boolean {
  if (!value.startsWith('spiffe://')) return false;
  const rest = value.slice('spiffe://'.length);
  const slash = rest.indexOf('/');
  const name = slash < 0 ? rest : rest.slice(0, slash);
  if (!referenceTrustDomainName(name)) return false;
  if (slash < 0) return true;
  return rest
    .slice(slash + 1)
    .split('/')
    .every((segment) => /^[A-Za-z0-9._-]+$/.test(segment) && segment !== '.' && segment !== '..');
}

/** TrustDomain.parse: a trust domain name, or a SPIFFE ID reduced to its trust domain. */
function referenceTrustDomain(value: string): boolean {
  return value.includes(':/') ? referenceSpiffeId(value) : referenceTrustDomainName(value);
}

/**
 * WIMSE-ID §4.1, necessary conditions: an absolute URI with a lower-case RFC 3986 scheme,
 * a non-empty authority with no userinfo or port, no query or fragment, within the length
 * bound; a `spiffe` identifier is exactly a valid SPIFFE ID.
 */
function referenceWorkloadIdentifierNecessary(value: string): boolean {
  const match = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]+)(\/[^?#]*)?$/.exec(value);
  if (match === null || value.length > MAX_WORKLOAD_IDENTIFIER_LENGTH) return false;
  const authority = match[2]!;
  if (authority.includes('@') || authority.includes(':') || authority !== authority.toLowerCase())
    return false;
  if (match[1] === 'spiffe') return referenceSpiffeId(value);
  return /^[\x21-\x7e]+$/.test(value);
}

const alphabet = 'abcxyzABZ019._-/:@?#%[] é\u0000';
const piece = fc.string({ unit: fc.constantFrom(...alphabet.split('')), maxLength: 12 });
const identifierLike = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc
    .tuple(
      fc.constantFrom('spiffe://', 'wimse://', 'SPIFFE://', 'spiffe:', 'https://', 'x-y+z.1://', '', '//'),
      fc.oneof(fc.constantFrom('example.org', 'td', 'a'.repeat(256)), piece),
      fc.array(fc.oneof(fc.constantFrom('ns', 'prod', '.', '..', '', '%41', 'a?b', 'b#c'), piece), {
        maxLength: 5,
      }),
      fc.boolean(),
    )
    .map(
      ([scheme, trustDomain, segments, trailingSlash]) =>
        `${scheme}${trustDomain}${segments.map((s) => `/${s}`).join('')}${trailingSlash ? '/' : ''}`,
    ),
);

describe('fuzz: identifier parsers', () => {
  afterAll(() => {
    recordHardeningFigure('fuzz:spiffe-id', parameters.numRuns);
    recordHardeningFigure('fuzz:trust-domain', parameters.numRuns);
    recordHardeningFigure('fuzz:workload-identifier', parameters.numRuns);
  });

  it('SpiffeId.parse accepts exactly the reference SPIFFE IDs and throws only InvalidSpiffeIdError', () => {
    fc.assert(
      fc.property(identifierLike, (value) => {
        const result = attempt(() => SpiffeId.parse(value));
        if (!result.ok) expect(result.error).toBeInstanceOf(InvalidSpiffeIdError);
        expect(result.ok, JSON.stringify(value)).toBe(referenceSpiffeId(value));
        if (result.ok) expect(result.value.toString()).toBe(value);
      }),
      parameters,
    );
  });

  it('TrustDomain.parse accepts exactly the reference trust domains and throws only InvalidSpiffeIdError', () => {
    fc.assert(
      fc.property(fc.oneof(identifierLike, piece), (value) => {
        const result = attempt(() => TrustDomain.parse(value));
        if (!result.ok) expect(result.error).toBeInstanceOf(InvalidSpiffeIdError);
        expect(result.ok, JSON.stringify(value)).toBe(referenceTrustDomain(value));
      }),
      parameters,
    );
  });

  it('WorkloadIdentifier.parse never accepts what WIMSE-ID §4.1 forbids, and throws only its own error', () => {
    fc.assert(
      fc.property(identifierLike, (value) => {
        const result = attempt(() => WorkloadIdentifier.parse(value));
        if (!result.ok) {
          expect(result.error).toBeInstanceOf(InvalidWorkloadIdentifierError);
          return;
        }
        expect(referenceWorkloadIdentifierNecessary(value), JSON.stringify(value)).toBe(true);
        expect(result.value.toString()).toBe(value);
      }),
      parameters,
    );
  });
});
