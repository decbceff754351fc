import { constants, type KeyObject, verify } from 'node:crypto';
import { AuthenticationError } from '../errors/errors.js';
import type { CompactToken } from '../jose/compact-token.js';

interface SignatureScheme {
  readonly hash: string | null;
  /** ECDSA signatures are the fixed-length r‖s (IEEE P1363) JWS uses. */
  readonly ecdsaLength?: number;
  /** RSASSA-PSS with a salt as long as the hash, as RFC 7518 §3.5 requires. */
  readonly pssSaltLength?: number;
}

const SCHEMES: Readonly<Record<string, SignatureScheme>> = {
  ES256: { hash: 'sha256', ecdsaLength: 64 },
  ES384: { hash: 'sha384', ecdsaLength: 96 },
  ES512: { hash: 'sha512', ecdsaLength: 132 },
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', pssSaltLength: 32 },
  PS384: { hash: 'sha384', pssSaltLength: 48 },
  PS512: { hash: 'sha512', pssSaltLength: 64 },
  EdDSA: { hash: null },
  Ed25519: { hash: null },
};

/**
 * Verifies a compact JWS signature synchronously with node:crypto's one-shot `verify`.
 * Every token type goes through here: WebCrypto (what jose's verify uses) hands each
 * verification to the thread pool and back, which on a busy server costs more than the
 * signature check itself; the one-shot call is the same OpenSSL operation without that
 * round trip. The caller has already checked that `key` fits `alg` (key type, curve,
 * RSA size) and imported it once.
 * @returns the decoded payload bytes
 * @throws AuthenticationError `invalid_signature`
 */
export function verifyJwsSignature(
  token: CompactToken,
  key: KeyObject,
  alg: string,
  what: string,
): Uint8Array {
  const scheme = SCHEMES[alg];
  const lastDot = token.raw.lastIndexOf('.');
  const signature = Buffer.from(token.raw.slice(lastDot + 1), 'base64url');
  let valid = false;
  if (scheme !== undefined && (scheme.ecdsaLength === undefined || signature.length === scheme.ecdsaLength)) {
    try {
      valid = verify(
        scheme.hash,
        Buffer.from(token.raw.slice(0, lastDot), 'ascii'),
        scheme.ecdsaLength !== undefined
          ? { key, dsaEncoding: 'ieee-p1363' }
          : scheme.pssSaltLength !== undefined
            ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSaltLength }
            : key,
        signature,
      );
    } catch {
      valid = false;
    }
  }
  if (!valid) throw new AuthenticationError('invalid_signature', `${what} signature is invalid`);
  return Buffer.from(token.encodedPayload, 'base64url');
}
