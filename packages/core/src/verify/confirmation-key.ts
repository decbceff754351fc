import { createPublicKey, type KeyObject } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import { AuthenticationError } from '../errors/errors.js';
import { hasPrivateMembers, impliedAlgorithm, keyFitsAlgorithm } from '../jose/algorithms.js';
import type { PublicJwk, VerificationKey } from '../jose/key-types.js';

const WHAT = 'WIT';
const ASYMMETRIC_KEY_TYPES = new Set(['EC', 'OKP', 'RSA']);
const PUBLIC_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  EC: ['kty', 'crv', 'x', 'y'],
  OKP: ['kty', 'crv', 'x'],
  RSA: ['kty', 'n', 'e'],
};

/** The workload's proof-of-possession key bound by a WIT's `cnf.jwk`. */
export interface ConfirmationKey {
  /** The public JWK as carried in the WIT (public members only). */
  readonly jwk: PublicJwk;
  /** The algorithm every proof must use (`cnf.jwk.alg`). */
  readonly alg: string;
  /** The key, imported once per verified WIT. */
  readonly key: VerificationKey;
  /** The same key as a node:crypto KeyObject, for the per-request proof check. */
  readonly keyObject: KeyObject;
}

/** RFC 7518 §3.3/§3.5: RSA signing keys must be at least 2048 bits, as jose enforces. */
const MIN_RSA_BITS = 2048;

/** How strictly `cnf.jwk` is read. */
export interface ConfirmationKeyPolicy {
  /** Algorithms a proof may use. */
  readonly algorithms: readonly string[];
  /** Infer `alg` from `kty`/`crv` when a pre-s2s-04 WIT omits it (EC and Ed25519 only). */
  readonly inferMissingAlg: boolean;
}

function invalid(detail: string, cause?: unknown): AuthenticationError {
  return new AuthenticationError(
    'invalid_claims',
    `${WHAT} "cnf.jwk" ${detail}`,
    cause === undefined ? {} : { cause },
  );
}

/**
 * Validates and imports the WIT's confirmation key: an asymmetric public JWK whose `alg`
 * is an allowed asymmetric signature algorithm that fits the key.
 * @throws AuthenticationError `invalid_claims` or `unsupported_algorithm`
 */
export async function importConfirmationKey(
  claims: Record<string, unknown>,
  policy: ConfirmationKeyPolicy,
): Promise<ConfirmationKey> {
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) {
    throw new AuthenticationError('invalid_claims', `${WHAT} is missing the "cnf" claim`);
  }
  const jwk = (cnf as Record<string, unknown>).jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalid('is missing');
  const source = jwk as Record<string, unknown>;
  const kty = source.kty;
  if (typeof kty !== 'string' || !ASYMMETRIC_KEY_TYPES.has(kty))
    throw invalid('must be an asymmetric public key');
  if (hasPrivateMembers(source)) throw invalid('must not contain private key material');
  let alg = source.alg;
  if (alg === undefined && policy.inferMissingAlg) alg = impliedAlgorithm(kty, source.crv);
  if (alg === undefined) throw invalid('is missing "alg"');
  if (typeof alg !== 'string' || !policy.algorithms.includes(alg)) {
    throw new AuthenticationError(
      'unsupported_algorithm',
      `${WHAT} "cnf.jwk.alg" is not an allowed algorithm`,
    );
  }
  if (!keyFitsAlgorithm(alg, kty, source.crv)) throw invalid('does not fit its "alg"');
  const publicJwk: Record<string, unknown> = {};
  for (const member of PUBLIC_MEMBERS[kty] ?? []) {
    if (typeof source[member] !== 'string') throw invalid(`is missing "${member}"`);
    publicJwk[member] = source[member];
  }
  let key: VerificationKey;
  let keyObject: KeyObject;
  try {
    const imported = await importJWK(publicJwk as JWK, alg);
    if (imported instanceof Uint8Array) throw new TypeError('not an asymmetric key');
    key = imported as VerificationKey;
    keyObject = createPublicKey({ key: publicJwk as import('node:crypto').JsonWebKey, format: 'jwk' });
  } catch (cause) {
    throw invalid('is not a usable public key', cause);
  }
  const modulusLength = keyObject.asymmetricKeyDetails?.modulusLength;
  if (kty === 'RSA' && (modulusLength === undefined || modulusLength < MIN_RSA_BITS)) {
    throw invalid(`must be an RSA key of at least ${MIN_RSA_BITS} bits`);
  }
  return { jwk: Object.freeze({ ...publicJwk, alg }) as PublicJwk, alg, key, keyObject };
}
