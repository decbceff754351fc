import { compactVerify } from 'jose';
import { AuthenticationError } from '../errors/errors.js';
import type { CompactToken } from '../jose/compact-token.js';
import type { VerificationKey } from '../jose/key-types.js';

/**
 * Verifies the token's signature with an already-imported key, allowing exactly `alg`.
 * @throws AuthenticationError `invalid_signature`
 */
export async function verifySignature(
  token: CompactToken,
  key: VerificationKey,
  alg: string,
  what: string,
): Promise<void> {
  try {
    await compactVerify(token.raw, key, { algorithms: [alg] });
  } catch (cause) {
    throw new AuthenticationError('invalid_signature', `${what} signature is invalid`, { cause });
  }
}
