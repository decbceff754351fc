import { describe, expect, it } from 'vitest';
import { b64url } from '../../../test/support/tokens.js';
import { isWimseError } from '../src/index.js';
import { decodeClaims, parseCompactToken } from '../src/jose/compact-token.js';

const SIGNATURE = Buffer.alloc(64, 7).toString('base64url');
const HEADER = { alg: 'ES256', kid: 'jwt-1', typ: 'JWT' };
const CLAIMS = { sub: 'spiffe://example.org/w', exp: 2_000_000_000 };

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return isWimseError(error) ? error.code : `not a library error: ${String(error)}`;
  }
}

describe('parseCompactToken: one spelling per token', () => {
  it('accepts plain UTF-8 JSON segments', () => {
    const token = parseCompactToken(`${b64url(HEADER)}.${b64url(CLAIMS)}.${SIGNATURE}`, 'JWT-SVID');
    expect(token.header).toEqual(HEADER);
    expect(decodeClaims(token, 'JWT-SVID')).toEqual(CLAIMS);
  });

  it('refuses a byte order mark before the header JSON', () => {
    const header = b64url(`\ufeff${JSON.stringify(HEADER)}`);
    expect(codeOf(() => parseCompactToken(`${header}.${b64url(CLAIMS)}.${SIGNATURE}`, 'JWT-SVID'))).toBe(
      'credentials_malformed',
    );
  });

  it('refuses a byte order mark before the claims JSON', () => {
    const token = parseCompactToken(
      `${b64url(HEADER)}.${b64url(`\ufeff${JSON.stringify(CLAIMS)}`)}.${SIGNATURE}`,
      'JWT-SVID',
    );
    expect(codeOf(() => decodeClaims(token, 'JWT-SVID'))).toBe('credentials_malformed');
  });
});
