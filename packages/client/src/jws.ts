import { createHash, type KeyObject, sign as nodeSign, randomBytes } from 'node:crypto';

/** base64url(SHA-256(ASCII(value))): the WPT `wth`, `ath`, `tth` and `oth` hash. */
export function sha256Base64Url(value: string): string {
  return createHash('sha256').update(value, 'ascii').digest('base64url');
}

/** 128 random bits, base64url (a WPT `jti`). */
export function randomJti(): string {
  return randomBytes(16).toString('base64url');
}

function signature(alg: string, key: KeyObject, data: Buffer): Buffer {
  if (alg === 'EdDSA' || alg === 'Ed25519') return nodeSign(null, data, key);
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('ES')) return nodeSign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('PS')) {
    return nodeSign(hash, data, { key, padding: 6, saltLength: Number(alg.slice(2)) / 8 });
  }
  return nodeSign(hash, data, key);
}

/** A compact JWS of `header` and `claims`, signed with `key` using `header.alg`. */
export function signJws(
  header: { alg: string } & Record<string, unknown>,
  claims: object,
  key: KeyObject,
): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${signature(header.alg, key, Buffer.from(input, 'ascii')).toString('base64url')}`;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;

/** True when `token` has the compact JWS shape the WIMSE ABNF allows (3 non-empty base64url segments). */
export function isCompactJws(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts.every((part) => SEGMENT.test(part));
}

/** The payload of a compact JWS as an object, without verifying anything. */
export function decodePayload(token: string, what: string): Record<string, unknown> {
  if (!isCompactJws(token)) throw new TypeError(`${what} is not a compact JWS`);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new TypeError(`${what} payload is not JSON`);
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new TypeError(`${what} payload is not a JSON object`);
  }
  return payload as Record<string, unknown>;
}
