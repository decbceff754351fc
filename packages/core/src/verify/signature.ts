import { KeyObject } from 'node:crypto';
import { AuthenticationError } from '../errors/errors.js';
import type { CompactToken } from '../jose/compact-token.js';
import type { VerificationKey } from '../jose/key-types.js';
import { verifyJwsSignature } from './jws-signature.js';

/** RFC 7518 §3.3/§3.5: RSA signing keys must be at least 2048 bits (jose enforces the same). */
const MIN_RSA_BITS = 2048;

// A bundle key is imported once per algorithm (a CryptoKey, by jose); its KeyObject view is
// made once too. Weak, so a rotated-out bundle's keys are collected with it.
const keyObjects = new WeakMap<VerificationKey, KeyObject | Error>();

function keyObjectOf(key: VerificationKey): KeyObject {
  let converted = keyObjects.get(key);
  if (converted === undefined) {
    try {
      const keyObject = KeyObject.from(key);
      const type = keyObject.asymmetricKeyType;
      const bits = keyObject.asymmetricKeyDetails?.modulusLength;
      converted =
        (type === 'rsa' || type === 'rsa-pss') && (bits === undefined || bits < MIN_RSA_BITS)
          ? new Error(`RSA signing keys must have at least ${MIN_RSA_BITS} bits`)
          : keyObject;
    } catch (cause) {
      converted = cause instanceof Error ? cause : new Error('key conversion failed');
    }
    keyObjects.set(key, converted);
  }
  if (converted instanceof Error) {
    throw new AuthenticationError('invalid_signature', 'the signing key cannot verify signatures', {
      cause: converted,
    });
  }
  return converted;
}

/**
 * Verifies a trust-bundle-signed token (WIT, JWT-SVID) with an already-imported key,
 * allowing exactly `alg` (the key was selected and checked for `alg` by the caller).
 * @returns the decoded payload bytes, so callers need not decode them a second time
 * @throws AuthenticationError `invalid_signature`
 */
export function verifySignature(
  token: CompactToken,
  key: VerificationKey,
  alg: string,
  what: string,
): Promise<Uint8Array> {
  return verifyJwsSignature(token, keyObjectOf(key), alg, what);
}
