// Token minting for the HTTP benchmark (runner side only): compact JWS with node:crypto, so
// the tokens the servers verify are produced by none of the libraries being compared.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';

export const ALG = 'ES256';
export const TRUST_DOMAIN = 'example.org';
export const ORIGIN = 'https://orders.example.org';
export const ROUTE = '/orders';
export const CALLER = 'spiffe://example.org/ns/prod/sa/billing';
/** `iss` of the bearer JWT; the peers require one (a JWT-SVID may carry it). */
export const ISSUER = 'https://issuer.example.org/';

const b64url = (value) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
export const now = () => Math.floor(Date.now() / 1000);

export function es256KeyPair() {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...pair, jwk: pair.publicKey.export({ format: 'jwk' }) };
}

export function signJwt(header, claims, privateKey) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * One bearer token for every bearer variant, ours and the peers': a JWT-SVID (SPIFFE ID `sub`,
 * `aud`, `exp`, `kid`) that also carries the `iss` the peers check.
 */
export function bearerToken(issuer) {
  return signJwt(
    { alg: ALG, kid: 'jwt-1', typ: 'JWT' },
    { iss: ISSUER, sub: CALLER, aud: ORIGIN, iat: now(), exp: now() + 3600 },
    issuer.privateKey,
  );
}

/** The caller's WIT: its `cnf.jwk` is the workload key that signs the proofs. */
export function workloadIdentityToken(issuer, workload) {
  return signJwt(
    { alg: ALG, kid: 'wit-1', typ: 'wit+jwt' },
    { sub: CALLER, iat: now(), exp: now() + 3600, cnf: { jwk: { ...workload.jwk, alg: ALG } } },
    issuer.privateKey,
  );
}

/** `count` WPTs for GET /orders bound to `wit`, each with its own `jti`. */
export function mintProofs(wit, workload, count, lifetimeSeconds = 120) {
  const wth = createHash('sha256').update(wit).digest('base64url');
  const aud = `${ORIGIN}${ROUTE}`;
  const exp = now() + lifetimeSeconds;
  const proofs = new Array(count);
  for (let i = 0; i < count; i++) {
    proofs[i] = signJwt(
      { alg: ALG, typ: 'wpt+jwt' },
      { aud, exp, jti: randomBytes(16).toString('base64url'), wth },
      workload.privateKey,
    );
  }
  return proofs;
}
