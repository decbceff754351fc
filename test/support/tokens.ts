import {
  createHmac,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  randomBytes,
} from 'node:crypto';
import type { JWK } from 'jose';

/** A signing key pair with its public JWK, for tests. */
export interface TestKey {
  readonly alg: string;
  readonly privateKey: KeyObject;
  readonly publicJwk: JWK;
}

const CURVES: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Generates a key pair for `alg` (ES*, RS*, PS*, EdDSA). */
export function generateTestKey(alg: string): TestKey {
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  if (alg.startsWith('ES')) pair = generateKeyPairSync('ec', { namedCurve: CURVES[alg]! });
  else if (alg === 'EdDSA' || alg === 'Ed25519') pair = generateKeyPairSync('ed25519');
  else pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { alg, privateKey: pair.privateKey, publicJwk: pair.publicKey.export({ format: 'jwk' }) as JWK };
}

/** Ed25519 private key from a 32-byte seed (the wimsey vectors publish seeds). */
export function ed25519FromSeed(seed: Buffer): KeyObject {
  const pkcs8Prefix = Buffer.from('302e020100300506032b657004220420', 'hex');
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: 'der', type: 'pkcs8' });
}

export function b64url(value: string | Buffer | object): string {
  const bytes =
    typeof value === 'string' || Buffer.isBuffer(value)
      ? Buffer.from(value)
      : Buffer.from(JSON.stringify(value));
  return bytes.toString('base64url');
}

/** Signs `signingInput` with raw node:crypto, so tests control every byte of a token. */
export function rawSignature(alg: string, key: KeyObject | Buffer, signingInput: string): Buffer {
  const data = Buffer.from(signingInput);
  if (alg.startsWith('HS'))
    return createHmac(`sha${alg.slice(2)}`, key as Buffer)
      .update(data)
      .digest();
  const privateKey = key as KeyObject;
  if (alg === 'EdDSA' || alg === 'Ed25519') return nodeSign(null, data, privateKey);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('ES')) return nodeSign(hash, data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('PS')) {
    return nodeSign(hash, data, { key: privateKey, padding: 6, saltLength: Number(alg.slice(2)) / 8 });
  }
  return nodeSign(hash, data, privateKey);
}

/** Builds a compact JWS from a header and claims, signed with `key` using `header.alg`. */
export function signToken(header: Record<string, unknown>, claims: unknown, key: KeyObject | Buffer): string {
  const input = `${b64url(header)}.${b64url(claims as object)}`;
  if (header.alg === 'none') return `${input}.`;
  return `${input}.${rawSignature(String(header.alg), key, input).toString('base64url')}`;
}

export function randomJti(): string {
  return randomBytes(16).toString('base64url');
}
