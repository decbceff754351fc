// The hostile corpus signs every token itself, so a case controls every byte: header and
// payload JSON (duplicate members, odd types), the signature (r or s = 0, non-canonical
// base64url) and which key signed. The trust domain below is published to the servers as an
// ordinary SPIFFE bundle; nothing about it is special to the tests.
import { type BundleSource, JwtBundle, TrustUnavailableError } from '@wimse-auth/core';
import { b64url, generateTestKey, randomJti, rawSignature, type TestKey } from '../support/tokens.js';
import { sha256 } from '../support/trust-domain.js';

export const TRUST_DOMAIN = 'example.org';
export const CALLER_ID = 'spiffe://example.org/ns/prod/sa/billing';
export const ADMIN_ID = 'spiffe://example.org/ns/prod/sa/admin';
export const ISSUER = 'https://issuer.example.org';
export const ORIGIN = 'https://orders.example.org';
/** A trust domain whose bundle source fails. */
export const BROKEN_TRUST_DOMAIN = 'broken.example';
/** A trust domain that is trusted too, with its own keys (for cross-domain key confusion). */
export const OTHER_TRUST_DOMAIN = 'other.example';
/** The header whose token proofs must bind with `oth`. */
export const CONTEXT_TOKEN_HEADER = 'x-context-token';

export const WIT_KID = 'wit-1';
export const JWT_KID = 'jwt-1';
export const RSA_KID = 'rsa-1';
export const OTHER_KID = 'other-jwt-1';

export type Claims = Record<string, unknown>;
export type Header = Record<string, unknown>;

/** Removes members set to `undefined`, so overrides can delete defaults. */
function compact(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

export interface Kit {
  readonly keys: {
    readonly wit: TestKey;
    readonly jwt: TestKey;
    readonly rsa: TestKey;
    readonly other: TestKey;
    readonly workload: TestKey;
    readonly attacker: TestKey;
  };
  readonly trust: BundleSource;
  /** The SPIFFE bundle document of {@link TRUST_DOMAIN} (what a bundle file would hold). */
  readonly bundleDocument: Record<string, unknown>;
  /** NumericDate now (the kit's clock, which tests may move). */
  now(): number;
  /** A WIT for the caller bound to the workload key; `claims`/`header` override defaults. */
  wit(claims?: Claims, header?: Header, key?: TestKey | Buffer): string;
  /** A JWT-SVID for the caller addressed to {@link ORIGIN}. */
  svid(claims?: Claims, header?: Header, key?: TestKey | Buffer): string;
  /** A proof for `wit` addressed to `ORIGIN + path`, signed with the workload key. */
  wpt(wit: string, path: string, claims?: Claims, header?: Header, key?: TestKey | Buffer): string;
  /** Signs exact header and payload segments (already base64url) with `key` as `alg`. */
  signSegments(alg: string, header: string, payload: string, key: TestKey | Buffer): string;
}

/** @param clock - what "now" is for the tokens minted (default: the system clock) */
export function createKit(clock: () => number = Date.now): Kit {
  const keys = {
    wit: generateTestKey('ES256'),
    jwt: generateTestKey('ES256'),
    rsa: generateTestKey('RS256'),
    other: generateTestKey('ES256'),
    workload: generateTestKey('ES256'),
    attacker: generateTestKey('ES256'),
  };
  const bundleDocument = {
    keys: [
      { ...keys.wit.publicJwk, kid: WIT_KID, use: 'wit-svid' },
      { ...keys.jwt.publicJwk, kid: JWT_KID, use: 'jwt-svid' },
      { ...keys.rsa.publicJwk, kid: RSA_KID, use: 'jwt-svid' },
    ],
    spiffe_sequence: 1,
  };
  const bundle = JwtBundle.fromSpiffeBundle(TRUST_DOMAIN, bundleDocument);
  const otherBundle = JwtBundle.fromSpiffeBundle(OTHER_TRUST_DOMAIN, {
    keys: [{ ...keys.other.publicJwk, kid: OTHER_KID, use: 'jwt-svid' }],
    spiffe_sequence: 1,
  });
  const trust: BundleSource = {
    getBundle(trustDomain) {
      if (trustDomain.name === TRUST_DOMAIN) return bundle;
      if (trustDomain.name === OTHER_TRUST_DOMAIN) return otherBundle;
      if (trustDomain.name === BROKEN_TRUST_DOMAIN)
        throw new TrustUnavailableError('bundle endpoint unreachable');
      return undefined;
    },
  };
  const now = () => Math.floor(clock() / 1000);

  function signSegments(alg: string, header: string, payload: string, key: TestKey | Buffer): string {
    const input = `${header}.${payload}`;
    const signingKey = Buffer.isBuffer(key) ? key : key.privateKey;
    return `${input}.${rawSignature(alg, signingKey, input).toString('base64url')}`;
  }

  function sign(header: Header, claims: Claims, key: TestKey | Buffer): string {
    const jose = compact(header);
    return signSegments(String(jose.alg), b64url(jose), b64url(compact(claims)), key);
  }

  return {
    keys,
    trust,
    bundleDocument,
    now,
    signSegments,
    wit(claims = {}, header = {}, key: TestKey | Buffer = keys.wit) {
      const t = now();
      return sign(
        { alg: 'ES256', kid: WIT_KID, typ: 'wit+jwt', ...header },
        {
          iss: ISSUER,
          sub: CALLER_ID,
          iat: t,
          exp: t + 3600,
          jti: randomJti(),
          cnf: { jwk: { ...keys.workload.publicJwk, alg: 'ES256' } },
          ...claims,
        },
        key,
      );
    },
    svid(claims = {}, header = {}, key: TestKey | Buffer = keys.jwt) {
      const t = now();
      return sign(
        { alg: 'ES256', kid: JWT_KID, typ: 'JWT', ...header },
        { iss: ISSUER, sub: CALLER_ID, aud: ORIGIN, iat: t, exp: t + 300, ...claims },
        key,
      );
    },
    wpt(wit, path, claims = {}, header = {}, key: TestKey | Buffer = keys.workload) {
      return sign(
        { alg: 'ES256', typ: 'wpt+jwt', ...header },
        { aud: `${ORIGIN}${path}`, exp: now() + 60, jti: randomJti(), wth: sha256(wit), ...claims },
        key,
      );
    },
  };
}
