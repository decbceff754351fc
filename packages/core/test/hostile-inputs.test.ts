import { describe, expect, it } from 'vitest';
import { b64url, generateTestKey, randomJti, signToken } from '../../../test/support/tokens.js';
import { AuthenticationError, type HttpRequestLike, isWimseError } from '../src/index.js';
import { CALLER, createWorld, NOW, ORIGIN, sha256 } from './support/world.js';

const world = createWorld();
const authenticator = world.authenticator();

async function expectCode(request: HttpRequestLike, code: string): Promise<void> {
  const error = await authenticator.authenticate(request).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(AuthenticationError);
  expect(isWimseError(error) && error.code).toBe(code);
  expect(isWimseError(error) && error.status).toBe(401);
  // Messages never echo request material.
  for (const value of Object.values(request.headers as Record<string, string | string[]>).flat()) {
    for (const part of String(value).split(/[ .]/)) {
      if (part.length >= 16) expect((error as Error).message).not.toContain(part);
    }
  }
}

const bearer = (token: string): HttpRequestLike => ({
  url: '/orders',
  headers: { authorization: `Bearer ${token}` },
});

describe('hostile JWT-SVIDs', () => {
  it('alg none is rejected', async () => {
    await expectCode(
      bearer(world.mintJwtSvid({}, { alg: 'none' }).replace(/\.[^.]*$/, '.')),
      'credentials_malformed',
    );
    const unsignedWithJunk = signToken(
      { alg: 'none', kid: 'jwt-1', typ: 'JWT' },
      { sub: CALLER },
      Buffer.alloc(0),
    );
    await expectCode(bearer(`${unsignedWithJunk}AAAA`), 'unsupported_algorithm');
  });

  it('HS256 signed with the public key bytes is rejected', async () => {
    const secret = Buffer.from(JSON.stringify(world.jwtKey.publicJwk));
    const token = signToken(
      { alg: 'HS256', kid: 'jwt-1', typ: 'JWT' },
      { sub: CALLER, aud: ORIGIN, exp: NOW + 60 },
      secret,
    );
    await expectCode(bearer(token), 'unsupported_algorithm');
  });

  it('a kid naming a key of another trust domain is unknown', async () => {
    await expectCode(bearer(world.mintJwtSvid({}, { kid: 'other-jwt' })), 'unknown_key');
  });

  it('jku / x5u / jwk / x5c header parameters are never fetched or trusted', async () => {
    const attacker = generateTestKey('ES256');
    for (const extra of [
      { jku: 'https://attacker.example/jwks.json' },
      { x5u: 'https://attacker.example/cert.pem' },
      { jwk: attacker.publicJwk },
      { x5c: ['MIIB'] },
    ]) {
      const token = signToken(
        { alg: 'ES256', kid: 'jwt-1', typ: 'JWT', ...extra },
        { sub: CALLER, aud: ORIGIN, exp: NOW + 60 },
        attacker.privateKey,
      );
      await expectCode(bearer(token), 'invalid_signature');
    }
    // With a kid the bundle does not know, the embedded key is not a fallback either.
    const embedded = signToken(
      { alg: 'ES256', kid: 'attacker', typ: 'JWT', jwk: attacker.publicJwk },
      { sub: CALLER, aud: ORIGIN, exp: NOW + 60 },
      attacker.privateKey,
    );
    await expectCode(bearer(embedded), 'unknown_key');
  });

  it('unknown (and known) crit parameters are refused', async () => {
    await expectCode(bearer(world.mintJwtSvid({}, { crit: ['exp'], exp: 1 })), 'credentials_malformed');
    await expectCode(bearer(world.mintJwtSvid({}, { crit: ['b64'], b64: false })), 'credentials_malformed');
  });

  it('non-compact, 2- or 5-part tokens and oversized tokens are malformed', async () => {
    const token = world.mintJwtSvid();
    const [h, p, s] = token.split('.');
    await expectCode(bearer(`${h}.${p}`), 'credentials_malformed');
    await expectCode(bearer(`${h}.${p}.${s}.${s}.${s}`), 'credentials_malformed');
    await expectCode(bearer(`${h}..${s}`), 'credentials_malformed');
    await expectCode(bearer(`${h}.${p}.${s}=`), 'credentials_malformed');
    await expectCode(bearer(`${h}.${p}.${s}x`), 'credentials_malformed');
    await expectCode(bearer(world.mintJwtSvid({ pad: 'x'.repeat(64 * 1024) })), 'credentials_malformed');
    const json = JSON.stringify({ protected: h, payload: p, signature: s });
    await expectCode(bearer(json), 'credentials_malformed');
  });

  it('duplicate JSON members in the header or claims are malformed', async () => {
    const header = b64url('{"alg":"ES256","kid":"jwt-1","kid":"other-jwt"}');
    const claims = b64url(
      JSON.stringify({ sub: CALLER, aud: ORIGIN, exp: NOW + 60 }).replace('{', `{"sub":"x",`),
    );
    await expectCode(bearer(`${header}.${claims}.AAAA`), 'credentials_malformed');
    const goodHeader = b64url({ alg: 'ES256', kid: 'jwt-1' });
    await expectCode(bearer(`${goodHeader}.${claims}.AAAA`), 'credentials_malformed');
  });

  it('aud arrays that do not contain ours are rejected', async () => {
    await expectCode(
      bearer(world.mintJwtSvid({ aud: ['https://other.example', 'spiffe://example.org/x'] })),
      'audience_mismatch',
    );
    await expectCode(bearer(world.mintJwtSvid({ aud: [] })), 'invalid_claims');
    await expectCode(bearer(world.mintJwtSvid({ aud: { 0: ORIGIN } })), 'invalid_claims');
  });

  it('a WIT presented as a bearer token is the wrong type of token', async () => {
    await expectCode(bearer(world.mintWit()), 'invalid_type');
  });

  it('an untrusted trust domain and invalid subjects are rejected', async () => {
    await expectCode(bearer(world.mintJwtSvid({ sub: 'spiffe://evil.example/x' })), 'untrusted_trust_domain');
    await expectCode(bearer(world.mintJwtSvid({ sub: 'spiffe://EXAMPLE.org/x' })), 'invalid_subject');
    await expectCode(bearer(world.mintJwtSvid({ sub: 'wimse://example.org/x' })), 'invalid_subject');
    await expectCode(bearer(world.mintJwtSvid({ sub: 42 })), 'invalid_claims');
  });
});

describe('hostile WIT + WPT requests', () => {
  it('a WIT whose cnf.jwk carries a private key is rejected', async () => {
    const jwk = world.workload.privateKey.export({ format: 'jwk' });
    const wit = world.mintWit({ cnf: { jwk: { ...jwk, alg: 'ES256' } } });
    await expectCode(world.proofRequest(wit), 'invalid_claims');
  });

  it('a WIT whose cnf.jwk is symmetric, lacks alg, or names none/HS256 is rejected', async () => {
    const pub = world.workload.publicJwk;
    await expectCode(
      world.proofRequest(world.mintWit({ cnf: { jwk: { kty: 'oct', k: 'AAAA', alg: 'HS256' } } })),
      'invalid_claims',
    );
    await expectCode(world.proofRequest(world.mintWit({ cnf: { jwk: { ...pub } } })), 'invalid_claims');
    await expectCode(
      world.proofRequest(world.mintWit({ cnf: { jwk: { ...pub, alg: 'none' } } })),
      'unsupported_algorithm',
    );
    await expectCode(
      world.proofRequest(world.mintWit({ cnf: { jwk: { ...pub, alg: 'ES384' } } })),
      'invalid_claims',
    );
    await expectCode(world.proofRequest(world.mintWit({ cnf: {} })), 'invalid_claims');
  });

  it('a WPT signed by a different key is rejected', async () => {
    const wit = world.mintWit();
    const stranger = generateTestKey('ES256');
    await expectCode(world.proofRequest(wit, world.mintWpt(wit, {}, {}, stranger)), 'invalid_signature');
  });

  it('a WPT whose alg differs from cnf.jwk.alg is rejected', async () => {
    const wit = world.mintWit();
    const other = generateTestKey('EdDSA');
    await expectCode(world.proofRequest(wit, world.mintWpt(wit, {}, {}, other)), 'unsupported_algorithm');
  });

  it('wth of another WIT is a binding mismatch', async () => {
    const wit = world.mintWit();
    const otherWit = world.mintWit();
    await expectCode(world.proofRequest(wit, world.mintWpt(otherWit)), 'wit_binding_mismatch');
  });

  it('a replayed jti is rejected, also on another path', async () => {
    const wit = world.mintWit();
    const jti = randomJti();
    await authenticator.authenticate(world.proofRequest(wit, world.mintWpt(wit, { jti })));
    await expectCode(world.proofRequest(wit, world.mintWpt(wit, { jti })), 'replay_detected');
    const samePath = world.proofRequest(wit, world.mintWpt(wit));
    const proof = (samePath.headers as Record<string, string>).authorization!;
    await authenticator.authenticate(samePath);
    await expectCode({ ...samePath, method: 'DELETE' }, 'replay_detected');
    expect(proof.startsWith('WPT ')).toBe(true);
  });

  it('the same proof on a different path is an audience mismatch', async () => {
    const wit = world.mintWit();
    await expectCode(world.proofRequest(wit, world.mintWpt(wit), '/admin'), 'audience_mismatch');
  });

  it('a proof whose exp is beyond maxProofLifetime is rejected', async () => {
    const wit = world.mintWit();
    await expectCode(
      world.proofRequest(wit, world.mintWpt(wit, { exp: NOW + 3600 })),
      'proof_lifetime_too_long',
    );
    await expectCode(
      world.proofRequest(wit, world.mintWpt(wit, { iat: NOW - 400, exp: NOW + 20 })),
      'proof_lifetime_too_long',
    );
  });

  it('duplicate or comma-joined Workload-Identity-Token headers are malformed', async () => {
    const wit = world.mintWit();
    const wpt = world.mintWpt(wit);
    await expectCode(
      { url: '/orders', headers: { 'workload-identity-token': [wit, wit], authorization: `WPT ${wpt}` } },
      'credentials_malformed',
    );
    await expectCode(
      {
        url: '/orders',
        headers: { 'workload-identity-token': `${wit}, ${wit}`, authorization: `WPT ${wpt}` },
      },
      'credentials_malformed',
    );
  });

  it('two proofs (Authorization: WPT and Workload-Proof-Token) are malformed', async () => {
    const wit = world.mintWit();
    await expectCode(
      {
        url: '/orders',
        headers: {
          'workload-identity-token': wit,
          authorization: `WPT ${world.mintWpt(wit)}`,
          'workload-proof-token': world.mintWpt(wit),
        },
      },
      'credentials_malformed',
    );
  });

  it('a bearer JWT-SVID sent with a WIT never authenticates the caller', async () => {
    const svid = world.mintJwtSvid();
    // WIT + bearer, no proof: rejected, not downgraded to the bearer token.
    await expectCode(
      {
        url: '/orders',
        headers: { 'workload-identity-token': world.mintWit(), authorization: `Bearer ${svid}` },
      },
      'credentials_malformed',
    );
    // WIT + WPT header + bearer: the bearer is an access token that the proof must bind.
    const wit = world.mintWit();
    await expectCode(
      {
        url: '/orders',
        headers: {
          'workload-identity-token': wit,
          'workload-proof-token': world.mintWpt(wit),
          authorization: `Bearer ${svid}`,
        },
      },
      'token_binding_mismatch',
    );
    const principal = await authenticator.authenticate({
      url: '/orders',
      headers: {
        'workload-identity-token': wit,
        'workload-proof-token': world.mintWpt(wit, { ath: sha256(svid) }),
        authorization: `Bearer ${svid}`,
      },
    });
    expect(principal.credential).toBe('wpt');
    expect(principal.accessToken).toBe(svid);
  });

  it('a proof without a WIT is malformed, not a bearer token', async () => {
    const wit = world.mintWit();
    await expectCode(
      { url: '/orders', headers: { authorization: `WPT ${world.mintWpt(wit)}` } },
      'credentials_malformed',
    );
    await expectCode(
      { url: '/orders', headers: { 'workload-proof-token': world.mintWpt(wit) } },
      'credentials_malformed',
    );
  });

  it('ath in the Authorization-carried proof binds a token that cannot be there', async () => {
    const wit = world.mintWit();
    await expectCode(
      world.proofRequest(wit, world.mintWpt(wit, { ath: sha256('x') })),
      'token_binding_mismatch',
    );
  });

  it('typ variants: only wit+jwt / wpt+jwt (any case, optional application/) pass', async () => {
    for (const typ of ['JWT', 'wit', 'wimse-id+jwt', 'text/wit+jwt', '']) {
      await expectCode(world.proofRequest(world.mintWit({}, { typ })), 'invalid_type');
    }
    await expectCode(world.proofRequest(world.mintWit({}, { typ: undefined })), 'invalid_type');
    for (const typ of ['WIT+JWT', 'application/wit+jwt', 'Application/Wit+Jwt']) {
      await authenticator.authenticate(world.proofRequest(world.mintWit({}, { typ })));
    }
    const wit = world.mintWit();
    for (const typ of ['JWT', 'wit+jwt', 'dpop+jwt']) {
      await expectCode(world.proofRequest(wit, world.mintWpt(wit, {}, { typ })), 'invalid_type');
    }
  });

  it('missing wth, jti, aud and exp are invalid claims; a huge jti is refused', async () => {
    const wit = world.mintWit();
    for (const claim of ['wth', 'jti', 'aud', 'exp']) {
      await expectCode(world.proofRequest(wit, world.mintWpt(wit, { [claim]: undefined })), 'invalid_claims');
    }
    await expectCode(
      world.proofRequest(wit, world.mintWpt(wit, { jti: 'j'.repeat(1000) })),
      'invalid_claims',
    );
    await expectCode(
      world.proofRequest(wit, world.mintWpt(wit, { exp: String(NOW + 60) })),
      'invalid_claims',
    );
  });

  it('time: expired WIT, future nbf, future iat', async () => {
    await expectCode(world.proofRequest(world.mintWit({ exp: NOW - 120 })), 'token_expired');
    await expectCode(world.proofRequest(world.mintWit({ nbf: NOW + 120 })), 'token_not_yet_valid');
    await expectCode(world.proofRequest(world.mintWit({ iat: NOW + 120 })), 'issued_in_future');
    const wit = world.mintWit();
    await expectCode(world.proofRequest(wit, world.mintWpt(wit, { exp: NOW - 31 })), 'token_expired');
  });

  it('a WIT signed by a key of another trust domain, or by an unknown kid, is rejected', async () => {
    await expectCode(world.proofRequest(world.mintWit({}, {}, world.otherKey)), 'invalid_signature');
    await expectCode(
      world.proofRequest(world.mintWit({}, { kid: 'other-wit' }, world.otherKey)),
      'unknown_key',
    );
    // A JWT-SVID key must not sign WITs.
    await expectCode(world.proofRequest(world.mintWit({}, { kid: 'jwt-1' }, world.jwtKey)), 'unknown_key');
  });
});

describe('proof signature edge cases', () => {
  it('rejects ECDSA proofs whose signature has the wrong length or r = s = 0', async () => {
    const wit = world.mintWit();
    const [h, p] = world.mintWpt(wit).split('.');
    await expectCode(
      world.proofRequest(wit, `${h}.${p}.${Buffer.alloc(64).toString('base64url')}`),
      'invalid_signature',
    );
    await expectCode(
      world.proofRequest(wit, `${h}.${p}.${Buffer.alloc(63, 1).toString('base64url')}`),
      'invalid_signature',
    );
    await expectCode(
      world.proofRequest(wit, `${h}.${p}.${Buffer.alloc(72, 1).toString('base64url')}`),
      'invalid_signature',
    );
  });

  it('verifies RSA (RS256, PS256) and EdDSA proofs, and refuses RSA proof keys under 2048 bits', async () => {
    for (const alg of ['RS256', 'PS256', 'EdDSA']) {
      const key = generateTestKey(alg);
      const wit = world.mintWit({ cnf: { jwk: { ...key.publicJwk, alg } } });
      await authenticator.authenticate(world.proofRequest(wit, world.mintWpt(wit, {}, {}, key)));
      const tampered = world
        .mintWpt(wit, {}, {}, key)
        .replace(
          /\.[^.]+\.([^.]+)$/,
          (_m, sig) =>
            `.${b64url({ aud: `${ORIGIN}/orders`, exp: NOW + 60, jti: randomJti(), wth: sha256(wit) })}.${sig}`,
        );
      await expectCode(world.proofRequest(wit, tampered), 'invalid_signature');
    }
    const { generateKeyPairSync } = await import('node:crypto');
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    await expectCode(
      world.proofRequest(world.mintWit({ cnf: { jwk: { ...small, alg: 'RS256' } } })),
      'invalid_claims',
    );
  });
});
