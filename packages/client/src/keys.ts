import { createPrivateKey, createPublicKey, type JsonWebKey, KeyObject, type webcrypto } from 'node:crypto';

/** A private key as node:crypto, WebCrypto or JWK (with `d`). */
export type PrivateKeyInput = KeyObject | webcrypto.CryptoKey | JsonWebKey;

const EC_CURVES: Readonly<Record<string, string>> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};
const JWK_CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Asymmetric JWS algorithms the signer supports. */
export const SIGNING_ALGORITHMS: readonly string[] = Object.freeze([
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
]);

// Node 20 does not expose the CryptoKey class on node:crypto's webcrypto; recognise it by shape.
function isCryptoKey(value: unknown): value is webcrypto.CryptoKey {
  if (typeof value !== 'object' || value === null) return false;
  const key = value as Record<string, unknown>;
  return typeof key.type === 'string' && typeof key.algorithm === 'object' && Array.isArray(key.usages);
}

/** The private key as a node:crypto KeyObject. */
export function toPrivateKeyObject(key: PrivateKeyInput): KeyObject {
  let object: KeyObject;
  if (key instanceof KeyObject) object = key;
  else if (isCryptoKey(key)) object = KeyObject.from(key);
  else if (typeof key === 'object' && key !== null && typeof key.kty === 'string') {
    if (key.d === undefined) throw new TypeError('privateKey: the JWK has no private part');
    object = createPrivateKey({ key, format: 'jwk' });
  } else throw new TypeError('privateKey must be a KeyObject, a CryptoKey or a private JWK');
  if (object.type !== 'private') throw new TypeError('privateKey must be a private key');
  return object;
}

/** Throws unless the key can sign with `alg`. */
export function checkKeyFitsAlgorithm(key: KeyObject, alg: string): void {
  const type = key.asymmetricKeyType;
  let fits = false;
  if (alg.startsWith('ES')) fits = type === 'ec' && key.asymmetricKeyDetails?.namedCurve === EC_CURVES[alg];
  else if (alg.startsWith('RS')) fits = type === 'rsa';
  else if (alg.startsWith('PS')) fits = type === 'rsa' || type === 'rsa-pss';
  else if (alg === 'EdDSA' || alg === 'Ed25519') fits = type === 'ed25519';
  if (!fits) throw new TypeError(`privateKey cannot sign with ${alg}`);
}

/** Throws when `jwk` (a WIT's `cnf.jwk`) is not the public half of `key`. */
export function checkKeyMatchesJwk(key: KeyObject, jwk: Record<string, unknown>, alg: string): void {
  let own: JsonWebKey;
  try {
    own = createPublicKey(key).export({ format: 'jwk' });
  } catch {
    return; // key types node cannot export as JWK (rsa-pss): nothing to compare
  }
  const members = own.kty === 'RSA' ? ['kty', 'n', 'e'] : ['kty', 'crv', 'x', 'y'];
  for (const member of members) {
    if (own[member] !== jwk[member]) {
      throw new TypeError('privateKey is not the key the WIT confirms (cnf.jwk): the proof would not verify');
    }
  }
  if (alg.startsWith('ES') && jwk.crv !== JWK_CURVES[alg]) {
    throw new TypeError(`the WIT's cnf.jwk does not fit ${alg}`);
  }
}
