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
  return { ...pair, alg: 'ES256', jwk: pair.publicKey.export({ format: 'jwk' }) };
}

/** A workload key for Ed25519 proofs (JWS `alg` EdDSA). */
export function ed25519KeyPair() {
  const pair = generateKeyPairSync('ed25519');
  return { ...pair, alg: 'EdDSA', jwk: pair.publicKey.export({ format: 'jwk' }) };
}

/** Signs with the key's own algorithm (ES256 unless the key says otherwise). */
export function signJwt(header, claims, key) {
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature =
    header.alg === 'EdDSA'
      ? sign(null, Buffer.from(input), key)
      : sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * A bearer token for the bearer variants, ours and the peers': a JWT-SVID (SPIFFE ID `sub`,
 * `aud`, `exp`, `kid`) that also carries the `iss` the peers check, and a `jti` so that
 * tokens minted in the same second differ (the "fresh token" loads).
 */
export function bearerToken(issuer, lifetimeSeconds = 3600) {
  return signJwt(
    { alg: ALG, kid: 'jwt-1', typ: 'JWT' },
    {
      iss: ISSUER,
      sub: CALLER,
      aud: ORIGIN,
      iat: now(),
      exp: now() + lifetimeSeconds,
      jti: randomBytes(12).toString('base64url'),
    },
    issuer.privateKey,
  );
}

/** `count` distinct bearer tokens: a new JWT-SVID on every request. */
export function mintBearerTokens(issuer, count, lifetimeSeconds = 600) {
  const tokens = new Array(count);
  for (let i = 0; i < count; i++) tokens[i] = bearerToken(issuer, lifetimeSeconds);
  return tokens;
}

/** The caller's WIT: its `cnf.jwk` is the workload key that signs the proofs. */
export function workloadIdentityToken(issuer, workload) {
  return signJwt(
    { alg: ALG, kid: 'wit-1', typ: 'wit+jwt' },
    { sub: CALLER, iat: now(), exp: now() + 3600, cnf: { jwk: { ...workload.jwk, alg: workload.alg } } },
    issuer.privateKey,
  );
}

/** `count` WPTs for GET /orders bound to `wit`, each with its own `jti`, signed by `workload`. */
export function mintProofs(wit, workload, count, lifetimeSeconds = 120) {
  const wth = createHash('sha256').update(wit).digest('base64url');
  const aud = `${ORIGIN}${ROUTE}`;
  const exp = now() + lifetimeSeconds;
  const proofs = new Array(count);
  for (let i = 0; i < count; i++) {
    proofs[i] = signJwt(
      { alg: workload.alg, typ: 'wpt+jwt' },
      { aud, exp, jti: randomBytes(16).toString('base64url'), wth },
      workload.privateKey,
    );
  }
  return proofs;
}
