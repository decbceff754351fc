// Fuzzes the compact-token parser (packages/core/src/jose/compact-token.ts) against a
// reference predicate written from RFC 7515 §7.1 and the profile's header rules.
import { isWimseError } from '@wimse-auth/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { recordHardeningFigure } from '../hostile/report.js';
import { attempt, type CompactTokenModule, fuzzParameters, loadCompactToken } from './targets.js';

const { parseCompactToken }: CompactTokenModule = await loadCompactToken();
const parameters = fuzzParameters();
const MAX_LENGTH = 16 * 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Unpadded base64url whose decoding re-encodes to the same text (no stray bits, no padding). */
function isCanonicalSegment(segment: string): boolean {
  return (
    /^[A-Za-z0-9_-]+$/.test(segment) &&
    segment.length % 4 !== 1 &&
    Buffer.from(segment, 'base64url').toString('base64url') === segment
  );
}

/**
 * The reference: three canonical segments; a header that is a UTF-8 JSON object with a
 * non-empty string `alg`, no `crit` or `b64`, and `typ`/`kid` strings when present. It does
 * not look for duplicate members (JSON.parse keeps the last), so the parser may refuse more.
 */
function referenceAccepts(token: string): boolean {
  if (token.length === 0 || token.length > MAX_LENGTH) return false;
  const segments = token.split('.');
  if (segments.length !== 3 || !segments.every(isCanonicalSegment)) return false;
  let header: unknown;
  try {
    header = JSON.parse(utf8.decode(Buffer.from(segments[0]!, 'base64url')));
  } catch {
    return false;
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return false;
  const fields = header as Record<string, unknown>;
  if (typeof fields.alg !== 'string' || fields.alg.length === 0) return false;
  if ('crit' in fields || 'b64' in fields) return false;
  if ('typ' in fields && typeof fields.typ !== 'string') return false;
  if ('kid' in fields && typeof fields.kid !== 'string') return false;
  return true;
}

const b64 = (value: string | Uint8Array) => Buffer.from(value).toString('base64url');

/** Header objects near the accepted shape, plus arbitrary JSON. */
const headerJson = fc.oneof(
  fc
    .record(
      {
        alg: fc.oneof(fc.constantFrom('ES256', 'RS256', 'EdDSA', 'none', ''), fc.string(), fc.integer()),
        typ: fc.oneof(fc.constantFrom('JWT', 'wit+jwt', 'wpt+jwt'), fc.integer(), fc.constant(null)),
        kid: fc.oneof(fc.string(), fc.integer()),
        crit: fc.array(fc.string()),
        b64: fc.boolean(),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    .map((header) => JSON.stringify(header)),
  fc.jsonValue().map((value) => JSON.stringify(value)),
);

/** Tokens built from parts, then possibly damaged in one place. */
const structuredToken = fc
  .tuple(
    headerJson,
    fc.jsonValue(),
    fc.uint8Array({ maxLength: 80 }),
    fc.nat(),
    fc.constantFrom('', '=', '.', ' ', 'é', '+', '/', '\u0000', '..'),
    fc.boolean(),
  )
  .map(([header, payload, signature, position, insert, damage]) => {
    const token = `${b64(header)}.${b64(JSON.stringify(payload))}.${b64(signature)}`;
    if (!damage) return token;
    const at = position % (token.length + 1);
    return token.slice(0, at) + insert + token.slice(at);
  });

const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom(...'AZaz09-_.=+/ '.split('')), maxLength: 300 }),
);

function check(token: string): void {
  const result = attempt(() => parseCompactToken(token, 'token', MAX_LENGTH));
  if (result.ok) {
    expect(referenceAccepts(token), 'accepted what the reference refuses').toBe(true);
    expect(result.value.raw).toBe(token);
    return;
  }
  expect(isWimseError(result.error), `not a library error: ${String(result.error)}`).toBe(true);
  expect(['credentials_malformed', 'invalid_type']).toContain((result.error as { code: string }).code);
}

describe('fuzz: compact-token parser', () => {
  afterAll(() => recordHardeningFigure('fuzz:compact-token', parameters.numRuns * 2));

  it('arbitrary text: only library errors, never acceptance the reference refuses', () => {
    fc.assert(fc.property(anyText, check), parameters);
  });

  it('structured tokens: accepted exactly when the reference accepts (duplicate-free JSON)', () => {
    fc.assert(
      fc.property(structuredToken, (token) => {
        check(token);
        expect(attempt(() => parseCompactToken(token, 'token', MAX_LENGTH)).ok).toBe(referenceAccepts(token));
      }),
      parameters,
    );
  });
});
