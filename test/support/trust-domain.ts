// A test trust domain built on the *published* @wimse-auth/core entry point, for adapter and
// cross-package tests: issues WITs, WPTs and JWT-SVIDs with fixed or real time.
import { createHash, randomBytes } from 'node:crypto';
import { JwtBundle, StaticBundleSource } from '@wimse-auth/core';
import { generateTestKey, signToken, type TestKey } from './tokens.js';

export const TRUST_DOMAIN = 'example.org';
export const CALLER_ID = 'spiffe://example.org/ns/prod/sa/billing';
/** The `iss` every token of the test trust domain carries unless overridden. */
export const ISSUER = 'https://issuer.example.org';

export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/**
 * `example.org` with one WIT key (`wit-1`) and one JWT-SVID key (`jwt-1`), plus a workload
 * key pair. Tokens use the real clock unless `now` is given (seconds).
 */
export function createTestTrustDomain(options: { now?: () => number } = {}) {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const witKey = generateTestKey('ES256');
  const jwtKey = generateTestKey('ES256');
  const workload = generateTestKey('ES256');
  const trust = new StaticBundleSource([
    JwtBundle.fromSpiffeBundle(TRUST_DOMAIN, {
      keys: [
        { ...witKey.publicJwk, kid: 'wit-1', use: 'wit-svid' },
        { ...jwtKey.publicJwk, kid: 'jwt-1', use: 'jwt-svid' },
      ],
    }),
  ]);

  function issueWit(claims: Record<string, unknown> = {}, key: TestKey = workload): string {
    return signToken(
      { alg: 'ES256', kid: 'wit-1', typ: 'wit+jwt' },
      {
        iss: ISSUER,
        sub: CALLER_ID,
        exp: now() + 3600,
        iat: now(),
        cnf: { jwk: { ...key.publicJwk, alg: key.alg } },
        ...claims,
      },
      witKey.privateKey,
    );
  }

  function issueWpt(wit: string, audience: string, claims: Record<string, unknown> = {}): string {
    return signToken(
      { alg: 'ES256', typ: 'wpt+jwt' },
      {
        aud: audience,
        exp: now() + 60,
        jti: randomBytes(16).toString('base64url'),
        wth: sha256(wit),
        ...claims,
      },
      workload.privateKey,
    );
  }

  function issueJwtSvid(audience: string | string[], claims: Record<string, unknown> = {}): string {
    return signToken(
      { alg: 'ES256', kid: 'jwt-1', typ: 'JWT' },
      { iss: ISSUER, sub: CALLER_ID, aud: audience, exp: now() + 300, iat: now(), ...claims },
      jwtKey.privateKey,
    );
  }

  /** Headers of a WIT + WPT request in the newest form (`Authorization: WPT`). */
  function proofHeaders(audience: string, wit = issueWit()): Record<string, string> {
    return { 'workload-identity-token': wit, authorization: `WPT ${issueWpt(wit, audience)}` };
  }

  return { trust, witKey, jwtKey, workload, issueWit, issueWpt, issueJwtSvid, proofHeaders };
}

export type TestTrustDomain = ReturnType<typeof createTestTrustDomain>;
