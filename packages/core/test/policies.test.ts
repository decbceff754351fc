import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  allOf,
  allowAny,
  allowIds,
  allowIf,
  allowPathPattern,
  allowTrustDomains,
  anyOf,
  authorize,
  requireProofOfPossession,
  SpiffeId,
  type WorkloadPrincipal,
} from '../src/index.js';

function principal(id: string, credential: 'wpt' | 'jwt-svid' = 'wpt'): WorkloadPrincipal {
  const authority = id.split('/')[2]!;
  return {
    id,
    trustDomain: authority,
    credential,
    credentialForm: credential === 'wpt' ? 'wpt-authorization' : 'jwt-svid',
    claims: { sub: id },
    expiresAt: new Date(0),
  };
}

const billing = principal('spiffe://example.org/ns/prod/sa/billing');

describe('authorizers', () => {
  it('allowIds matches exactly and validates at construction', async () => {
    expect(await allowIds('spiffe://example.org/ns/prod/sa/billing')(billing)).toBe(true);
    expect(await allowIds(SpiffeId.parse('spiffe://example.org/ns/prod/sa/billing'))(billing)).toBe(true);
    expect(await allowIds('spiffe://example.org/ns/prod/sa/billing2')(billing)).toBe(false);
    expect(await allowIds('wimse://example.org/ns/prod/sa/billing')(billing)).toBe(false);
    expect(() => allowIds('spiffe://Example.org/x')).toThrow();
    expect(() => allowIds()).toThrow();
  });

  it('allowTrustDomains', async () => {
    expect(await allowTrustDomains('example.org')(billing)).toBe(true);
    expect(await allowTrustDomains('spiffe://example.org')(billing)).toBe(true);
    expect(await allowTrustDomains('other.org')(billing)).toBe(false);
  });

  it('allowPathPattern: whole-segment wildcards only, literal trust domain', async () => {
    const pattern = allowPathPattern('spiffe://example.org/ns/*/sa/*');
    expect(await pattern(billing)).toBe(true);
    expect(await pattern(principal('spiffe://example.org/ns/prod/sa'))).toBe(false);
    expect(await pattern(principal('spiffe://example.org/ns/prod/sa/billing/extra'))).toBe(false);
    expect(await pattern(principal('spiffe://example.org.evil/ns/prod/sa/billing'))).toBe(false);
    expect(await pattern(principal('spiffe://evil.org/ns/prod/sa/billing'))).toBe(false);
    const glob = allowPathPattern('spiffe://example.org/ns/prod/**');
    expect(await glob(billing)).toBe(true);
    expect(await glob(principal('spiffe://example.org/ns/prod'))).toBe(false);
    expect(await glob(principal('spiffe://example.org/ns/staging/sa/x'))).toBe(false);
    expect(() => allowPathPattern('spiffe://*.org/ns/*')).toThrow(/literal/);
    expect(() => allowPathPattern('spiffe://example.org/ns/sa-*')).toThrow(/whole segments/);
    expect(() => allowPathPattern('spiffe://example.org/**/sa')).toThrow(/end a pattern/);
    expect(() => allowPathPattern('spiffe://example.org')).toThrow();
  });

  it('combinators, allowIf, requireProofOfPossession, allowAny', async () => {
    const bearer = principal('spiffe://example.org/ns/prod/sa/billing', 'jwt-svid');
    expect(await requireProofOfPossession()(bearer)).toBe(false);
    expect(await allOf(allowTrustDomains('example.org'), requireProofOfPossession())(billing)).toBe(true);
    expect(await allOf(allowTrustDomains('example.org'), requireProofOfPossession())(bearer)).toBe(false);
    expect(
      await anyOf(
        allowIds('spiffe://example.org/a'),
        allowIf((p) => p.id.endsWith('/billing')),
      )(bearer),
    ).toBe(true);
    expect(await anyOf(allowIds('spiffe://example.org/a'))(bearer)).toBe(false);
    expect(await allowAny()(bearer)).toBe(true);
  });

  it('authorize throws AccessDeniedError (403) on denial and on a throwing policy', async () => {
    await authorize(billing, allowAny());
    await expect(authorize(billing, allowTrustDomains('other.org'))).rejects.toBeInstanceOf(
      AccessDeniedError,
    );
    await expect(
      authorize(
        billing,
        allowIf(() => {
          throw new Error('boom');
        }),
      ),
    ).rejects.toMatchObject({ code: 'access_denied', status: 403 });
  });
});

describe('toAuthorizer', () => {
  it('accepts an authorizer, an id, a pattern, or a list of both', async () => {
    const { toAuthorizer } = await import('../src/index.js');
    expect(await toAuthorizer(allowAny())(billing)).toBe(true);
    expect(await toAuthorizer('spiffe://example.org/ns/prod/sa/billing')(billing)).toBe(true);
    expect(await toAuthorizer('spiffe://example.org/ns/*/sa/billing')(billing)).toBe(true);
    expect(await toAuthorizer(['spiffe://example.org/a', 'spiffe://example.org/ns/prod/**'])(billing)).toBe(
      true,
    );
    expect(
      await toAuthorizer(['spiffe://example.org/a', 'spiffe://example.org/ns/staging/**'])(billing),
    ).toBe(false);
    expect(() => toAuthorizer([])).toThrow(TypeError);
    expect(() => toAuthorizer('not a uri')).toThrow();
  });
});
