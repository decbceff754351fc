import { describe, expect, it } from 'vitest';
import { ed25519FromSeed } from '../../../test/support/tokens.js';
import {
  JwtBundle,
  StaticBundleSource,
  type VerifiedWit,
  type VerifyWitOptions,
  verifyWit,
  verifyWpt,
} from '../src/index.js';
import { readVector } from './support/vectors.js';

/**
 * wimsey's reason names → our stable codes. Every negative case must fail with exactly
 * the mapped code: being rejected for another reason is a test failure.
 */
const REASON_TO_CODE: Record<string, string> = {
  expired: 'token_expired',
  issued_in_future: 'issued_in_future',
  wrong_type: 'invalid_type',
  invalid_signature: 'invalid_signature',
  issuer_mismatch: 'issuer_mismatch',
  audience_mismatch: 'audience_mismatch',
  wit_binding_mismatch: 'wit_binding_mismatch',
};

const manifest = readVector('wimsey/manifest.json');
const suites = manifest.vectors.filter((v: { suite: string }) => v.suite === 'wit' || v.suite === 'wpt');

function publicJwkFromSeed(seedB64u: string) {
  return ed25519FromSeed(Buffer.from(seedB64u, 'base64url')).export({ format: 'jwk' });
}

function trustFor(kid: string, publicKeyB64u: string): StaticBundleSource {
  // wimsey bundles are plain keys without a SPIFFE `use` (unmarked): accepted by default.
  return new StaticBundleSource([
    JwtBundle.fromJwks('example.org', { keys: [{ kty: 'OKP', crv: 'Ed25519', x: publicKeyB64u, kid }] }),
  ]);
}

/**
 * wimsey's WITs predate cnf.jwk.alg (workload-creds-01 examples); the documented legacy
 * inference switch is required to accept them, and is what this table runs with.
 */
const base = (now: number): Omit<VerifyWitOptions, 'trust'> => ({
  clock: () => new Date(now * 1000),
  clockTolerance: 0,
  legacy: { inferConfirmationAlg: true },
});

describe('wimsey conformance vectors', () => {
  it('covers both suites we implement', () => {
    expect(suites.map((s: { suite: string }) => s.suite).sort()).toEqual(['wit', 'wpt']);
  });

  for (const entry of suites) {
    const vector = readVector(`wimsey/${entry.path}`);
    describe(`${vector.suite}/${vector.id}`, () => {
      if (vector.suite === 'wit') {
        const issuerPublic = publicJwkFromSeed(vector.issuer_signing_key_seed_b64u).x as string;

        it('positive: verifies', async () => {
          const wit = await verifyWit(vector.token, {
            ...base(vector.verify_now),
            trust: trustFor(vector.kid, issuerPublic),
          });
          expect(wit.identifier.toString()).toBe(vector.claims.sub);
        });

        for (const negative of vector.negative) {
          it(`negative ${negative.id}: rejected as ${REASON_TO_CODE[negative.expect]}`, async () => {
            const options = {
              ...base(negative.verify_now ?? vector.verify_now),
              trust: trustFor(vector.kid, negative.issuer_verifying_key_b64u ?? issuerPublic),
              ...(negative.expected_iss ? { issuers: { 'example.org': [negative.expected_iss] } } : {}),
            };
            await expect(verifyWit(negative.token ?? vector.token, options)).rejects.toMatchObject({
              code: REASON_TO_CODE[negative.expect],
            });
          });
        }
      } else {
        const trust = trustFor('issuer-key-1', vector.issuer_verifying_key_b64u);
        const witFor = (token: string, now: number): Promise<VerifiedWit> =>
          verifyWit(token, { ...base(now), trust });

        it('positive: verifies', async () => {
          const wit = await witFor(vector.wit, vector.verify_now);
          const proof = await verifyWpt(
            vector.proof,
            wit,
            { audience: vector.audience },
            base(vector.verify_now),
          );
          expect(proof.jti).toBe(vector.claims.jti);
        });

        for (const negative of vector.negative) {
          it(`negative ${negative.id}: rejected as ${REASON_TO_CODE[negative.expect]}`, async () => {
            const now = negative.verify_now ?? vector.verify_now;
            // The WIT is verified at the vector's own time; the negative's time applies to the proof.
            const wit = await witFor(negative.wit ?? vector.wit, vector.verify_now);
            await expect(
              verifyWpt(
                negative.proof ?? vector.proof,
                wit,
                { audience: negative.audience ?? vector.audience },
                base(now),
              ),
            ).rejects.toMatchObject({ code: REASON_TO_CODE[negative.expect] });
          });
        }
      }
    });
  }
});
