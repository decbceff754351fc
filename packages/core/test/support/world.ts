import { createHash } from 'node:crypto';
import type { JWK } from 'jose';
import { generateTestKey, randomJti, signToken, type TestKey } from '../../../../test/support/tokens.js';
import {
  type AuthenticatorOptions,
  createAuthenticator,
  type HttpRequestLike,
  JwtBundle,
  StaticBundleSource,
} from '../../src/index.js';

/** Fixed "now" for deterministic tests: 2027-01-15T08:00:00Z. */
export const NOW = 1_800_000_000;
export const ORIGIN = 'https://api.example.org';
export const CALLER = 'spiffe://example.org/ns/prod/sa/billing';

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * A trust domain `example.org` (WIT key `wit-1`, JWT-SVID key `jwt-1`), a second trust
 * domain `other.org`, and a workload key — everything needed to mint requests.
 */
export function createWorld(witAlg = 'ES256', workloadAlg = 'ES256') {
  const witKey = generateTestKey(witAlg);
  const jwtKey = generateTestKey('ES256');
  const otherKey = generateTestKey('ES256');
  const workload = generateTestKey(workloadAlg);
  const bundle = JwtBundle.fromSpiffeBundle('example.org', {
    keys: [
      { ...witKey.publicJwk, kid: 'wit-1', use: 'wit-svid' },
      { ...jwtKey.publicJwk, kid: 'jwt-1', use: 'jwt-svid' },
    ],
  });
  const otherBundle = JwtBundle.fromSpiffeBundle('other.org', {
    keys: [
      { ...otherKey.publicJwk, kid: 'other-wit', use: 'wit-svid' },
      { ...otherKey.publicJwk, kid: 'other-jwt', use: 'jwt-svid' },
    ],
  });
  const trust = new StaticBundleSource([bundle, otherBundle]);
  const clock = () => new Date(NOW * 1000);

  function witClaims(overrides: Record<string, unknown> = {}, key: TestKey = workload) {
    return {
      sub: CALLER,
      exp: NOW + 3600,
      iat: NOW - 60,
      jti: randomJti(),
      cnf: { jwk: { ...key.publicJwk, alg: key.alg } },
      ...overrides,
    };
  }

  function mintWit(
    overrides: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    signer: TestKey = witKey,
  ): string {
    return signToken(
      { alg: signer.alg, kid: 'wit-1', typ: 'wit+jwt', ...header },
      witClaims(overrides),
      signer.privateKey,
    );
  }

  function mintWpt(
    wit: string,
    overrides: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    signer: TestKey = workload,
  ): string {
    return signToken(
      { alg: signer.alg, typ: 'wpt+jwt', ...header },
      { aud: `${ORIGIN}/orders`, exp: NOW + 60, jti: randomJti(), wth: sha256(wit), ...overrides },
      signer.privateKey,
    );
  }

  function mintJwtSvid(
    overrides: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
  ): string {
    return signToken(
      { alg: 'ES256', kid: 'jwt-1', typ: 'JWT', ...header },
      { sub: CALLER, aud: [ORIGIN], exp: NOW + 300, iat: NOW - 10, ...overrides },
      jwtKey.privateKey,
    );
  }

  function authenticator(options: Partial<AuthenticatorOptions> = {}) {
    return createAuthenticator({ trust, clock, audience: { origins: [ORIGIN] }, ...options });
  }

  /** A request to `/orders` carrying a fresh WIT + WPT in the newest form. */
  function proofRequest(wit = mintWit(), wpt = mintWpt(wit), url = '/orders'): HttpRequestLike {
    return { method: 'GET', url, headers: { 'workload-identity-token': wit, authorization: `WPT ${wpt}` } };
  }

  return {
    witKey,
    jwtKey,
    otherKey,
    workload,
    bundle,
    otherBundle,
    trust,
    clock,
    witClaims,
    mintWit,
    mintWpt,
    mintJwtSvid,
    authenticator,
    proofRequest,
  };
}

export type World = ReturnType<typeof createWorld>;
export type { JWK };
