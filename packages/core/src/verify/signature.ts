import { compactVerify } from 'jose';
import { AuthenticationError } from '../errors/errors.js';
import type { CompactToken } from '../jose/compact-token.js';
import type { VerificationKey } from '../jose/key-types.js';

/**
 * Verifies the token's signature with an already-imported key, allowing exactly `alg`.
 * @returns the decoded payload bytes, so callers need not decode them a second time
 * @throws AuthenticationError `invalid_signature`
 */
export async function verifySignature(
  token: CompactToken,
  key: VerificationKey,
  alg: string,
  what: string,
): Promise<Uint8Array> {
  try {
    return (await compactVerify(token.raw, key, { algorithms: [alg] })).payload;
  } catch (cause) {
    throw new AuthenticationError('invalid_signature', `${what} signature is invalid`, { cause });
  }
}
