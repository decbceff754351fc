// The repository's own tests get credentials from @wimse-auth/testing, as users' tests do.
// This module only fixes the conventions the cross-package suites share: trust domain
// `example.org`, caller `…/sa/billing`, issuer `https://issuer.example.org`, one workload key.
import { randomJti, sha256Base64Url, signJws } from '@wimse-auth/client';
import { createTestTrustDomain as createDomain } from '@wimse-auth/testing';

export const TRUST_DOMAIN = 'example.org';
export const CALLER_ID = 'spiffe://example.org/ns/prod/sa/billing';
/** The `iss` every token of the test trust domain carries unless overridden. */
export const ISSUER = 'https://issuer.example.org';

export const sha256 = sha256Base64Url;

/** `example.org` from @wimse-auth/testing, plus one ES256 workload key for WITs and proofs. */
export function createTestTrustDomain() {
  const domain = createDomain(TRUST_DOMAIN, { issuer: ISSUER });
  const workload = domain.generateWorkloadKey('ES256');
  const now = () => Math.floor(Date.now() / 1000);

  /** A WIT for the caller (claims override any default, `undefined` removes one). */
  function issueWit(claims: Record<string, unknown> = {}): string {
    return domain.issueWit({ sub: CALLER_ID, key: workload, claims }).token;
  }

  /** A proof for `wit` addressed to `audience`, signed with the workload key. */
  function issueWpt(wit: string, audience: string, claims: Record<string, unknown> = {}): string {
    return signJws(
      { alg: workload.alg, typ: 'wpt+jwt' },
      { aud: audience, exp: now() + 60, jti: randomJti(), wth: sha256(wit), ...claims },
      workload.privateKey,
    );
  }

  function issueJwtSvid(audience: string | string[], claims: Record<string, unknown> = {}): string {
    return domain.issueJwtSvid({ sub: CALLER_ID, aud: audience, claims });
  }

  /** Headers of a WIT + WPT request in the newest form (`Authorization: WPT`). */
  function proofHeaders(audience: string, wit = issueWit()): Record<string, string> {
    return { 'workload-identity-token': wit, authorization: `WPT ${issueWpt(wit, audience)}` };
  }

  return {
    /** The underlying @wimse-auth/testing trust domain (bad tokens, rotation, …). */
    domain,
    trust: domain.bundleSource,
    /** The SPIFFE bundle document (for bundle files). */
    get bundle() {
      return domain.bundle;
    },
    workload,
    issueWit,
    issueWpt,
    issueJwtSvid,
    proofHeaders,
  };
}

export type TestTrustDomain = ReturnType<typeof createTestTrustDomain>;
