import { createHmac, type JsonWebKey, type KeyObject } from 'node:crypto';
import { signJws } from '@wimse-auth/client';

export { randomJti as randomId, sha256Base64Url } from '@wimse-auth/client';

export function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** Builds a compact JWS. `header.alg` names the algorithm; `'none'` yields an unsigned token. */
export function signCompact(header: Record<string, unknown>, claims: object, key: KeyObject): string {
  if (header.alg === 'none')
    return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}.`;
  return signJws(header as { alg: string } & Record<string, unknown>, claims, key);
}

export type { JsonWebKey };

/** An HS256 compact JWS keyed with `secret` (only for deliberately bad tokens). */
export function hmacCompact(header: Record<string, unknown>, claims: object, secret: string): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}
