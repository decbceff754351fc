import { describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  createAuthenticator,
  StaticBundleSource,
  verifyWit,
  verifyWpt,
} from '../src/index.js';
import { readVector } from './support/vectors.js';

const examples = readVector('draft/wimse-draft-examples.json');
const current = examples.current;
const at = (seconds: number) => () => new Date(seconds * 1000);

describe('the drafts’ current WIT + WPT example (workload-creds-02 §5.1, wpt-02 §2)', () => {
  const trust = StaticBundleSource.fromJwks('example.com', current.trust_anchor.jwks);
  const clock = at(current.validation_context.suggested_now);
  const request = () => ({
    method: current.http_request.method,
    url: '/path',
    headers: {
      host: 'workload.example.com',
      authorization: current.http_request.authorization_header,
      'workload-identity-token': current.wit.compact,
      'workload-proof-token': current.wpt.compact,
    },
  });

  it('authenticates through the request authenticator with its published keys and clock', async () => {
    const authenticator = createAuthenticator({
      trust,
      clock,
      audience: { origins: ['https://workload.example.com'] },
    });
    const principal = await authenticator.authenticate(request());
    expect(principal.id).toBe(current.validation_context.authenticated_workload_identifier);
    expect(principal.trustDomain).toBe('example.com');
    expect(principal.spiffeId).toBeUndefined();
    expect(principal.credential).toBe('wpt');
    expect(principal.credentialForm).toBe('wpt-header');
    expect(principal.accessToken).toBe(current.http_request.access_token);
    expect(JSON.stringify(principal)).not.toContain(current.http_request.access_token);
    expect(principal.wit?.proof.jti).toBe(current.wpt.claims.jti);
    expect(principal.expiresAt.getTime()).toBe(current.wit.claims.exp * 1000);

    await expect(authenticator.authenticate(request())).rejects.toMatchObject({ code: 'replay_detected' });
  });

  it('verifies with the standalone verifiers', async () => {
    const wit = await verifyWit(current.wit.compact, { trust, clock });
    expect(wit.identifier.toString()).toBe('wimse://example.com/specific-workload');
    expect(wit.confirmation.alg).toBe('EdDSA');
    expect(wit.tokenHash).toBe(current.hashes.wth.value);
    const proof = await verifyWpt(
      current.wpt.compact,
      wit,
      { audience: current.http_request.target_uri_for_aud, accessToken: current.http_request.access_token },
      { clock },
    );
    expect(proof.jti).toBe(current.wpt.claims.jti);
  });

  it('rejects the proof without the access token it binds with ath', async () => {
    const authenticator = createAuthenticator({
      trust,
      clock,
      audience: { origins: ['https://workload.example.com'] },
    });
    const { authorization: _, ...headers } = request().headers;
    await expect(authenticator.authenticate({ ...request(), headers })).rejects.toMatchObject({
      code: 'token_binding_mismatch',
      status: 401,
    });
  });

  it('rejects it after the proof expired', async () => {
    const authenticator = createAuthenticator({
      trust,
      clock: at(current.wpt.claims.exp + 1),
      clockTolerance: 0,
      audience: { origins: ['https://workload.example.com'] },
    });
    await expect(authenticator.authenticate(request())).rejects.toMatchObject({ code: 'token_expired' });
  });
});

describe('legacy (s2s-00…06) examples with wimse-id+jwt / wimse-proof+jwt', () => {
  for (const legacy of examples.legacy) {
    const trust = StaticBundleSource.fromJwks('example.com', { keys: [legacy.identity_server_public_jwk] });
    const beforeExpiry = at(legacy.wit.claims.exp - 60);

    it(`${legacy.id}: rejected as invalid_type by default`, async () => {
      const error = await verifyWit(legacy.wit.compact, { trust, clock: beforeExpiry }).catch((e) => e);
      expect(error).toBeInstanceOf(AuthenticationError);
      expect(error.code).toBe('invalid_type');
    });

    it(`${legacy.id}: WIT accepted with legacy.typ (and inferConfirmationAlg where cnf.jwk.alg is absent)`, async () => {
      const wit = await verifyWit(legacy.wit.compact, {
        trust,
        clock: beforeExpiry,
        legacy: { typ: true, inferConfirmationAlg: true },
      });
      expect(wit.identifier.toString()).toBe(legacy.wit.claims.sub);
      // Without inference, a WIT lacking cnf.jwk.alg stays invalid even in legacy mode.
      if (legacy.wit.claims.cnf.jwk.alg === undefined) {
        await expect(
          verifyWit(legacy.wit.compact, { trust, clock: beforeExpiry, legacy: { typ: true } }),
        ).rejects.toMatchObject({ code: 'invalid_claims' });
      }
    });
  }

  it('the s2s-04 pair authenticates end to end in legacy mode', async () => {
    const legacy = examples.legacy.find((l: { id: string }) => l.id === 'wimse-legacy-s2s-04');
    const trust = StaticBundleSource.fromJwks('example.com', { keys: [legacy.identity_server_public_jwk] });
    const authenticator = createAuthenticator({
      trust,
      clock: at(legacy.wpt.claims.exp - 120),
      legacy: { typ: true },
      audience: { origins: ['https://workload.example.com'] },
    });
    const headers = {
      authorization: 'Bearer 16_mAd0GiwaZokU26_0902100',
      'workload-identity-token': legacy.wit.compact,
      'workload-proof-token': legacy.wpt.compact,
    };
    const principal = await authenticator.authenticate({ url: '/path', headers });
    expect(principal.id).toBe('wimse://example.com/specific-workload');
    const strict = createAuthenticator({
      trust,
      clock: at(legacy.wpt.claims.exp - 120),
      audience: { origins: ['https://workload.example.com'] },
    });
    await expect(strict.authenticate({ url: '/path', headers })).rejects.toMatchObject({
      code: 'invalid_type',
    });
  });
});
