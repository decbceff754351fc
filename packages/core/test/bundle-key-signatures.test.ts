import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateTestKey, signToken } from '../../../test/support/tokens.js';
import { createAuthenticator, isWimseError, JwtBundle, StaticBundleSource } from '../src/index.js';
import { CALLER, createWorld, NOW, ORIGIN } from './support/world.js';

// JWT-SVIDs and WITs are verified with node:crypto on the KeyObject view of the bundle key
// jose imported; these cases pin what jose's own verify used to enforce.
function trustWith(jwk: Record<string, unknown>) {
  const bundle = JwtBundle.fromSpiffeBundle('example.org', { keys: [{ ...jwk, kid: 'k', use: 'jwt-svid' }] });
  return createAuthenticator({
    trust: new StaticBundleSource([bundle]),
    clock: () => new Date(NOW * 1000),
    audience: { origins: [ORIGIN] },
    cacheSize: { jwtSvid: 0 },
  });
}

function svid(alg: string, privateKey: Parameters<typeof signToken>[2]) {
  return signToken(
    { alg, kid: 'k', typ: 'JWT' },
    { sub: CALLER, aud: [ORIGIN], exp: NOW + 300, iat: NOW - 10 },
    privateKey,
  );
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'accepted';
  } catch (error) {
    if (isWimseError(error)) return error.code;
    throw error;
  }
}

describe('bundle-key signatures', () => {
  it.each(['ES256', 'ES384', 'ES512', 'RS256', 'PS256', 'PS384'])(
    'accepts a %s JWT-SVID and refuses it with one signature bit flipped',
    async (alg) => {
      const key = generateTestKey(alg);
      const authenticator = trustWith(key.publicJwk as Record<string, unknown>);
      const token = svid(alg, key.privateKey);
      const request = (t: string) => ({ url: '/orders', headers: { authorization: `Bearer ${t}` } });
      const principal = await authenticator.authenticate(request(token));
      expect(principal.id.toString()).toBe(CALLER);
      const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
      signature[signature.length - 1]! ^= 1;
      const flipped = `${token.slice(0, token.lastIndexOf('.') + 1)}${signature.toString('base64url')}`;
      expect(await codeOf(authenticator.authenticate(request(flipped)))).toBe('invalid_signature');
    },
  );

  it('refuses tokens signed by an RSA bundle key under 2048 bits', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const authenticator = trustWith(publicKey.export({ format: 'jwk' }) as Record<string, unknown>);
    const token = svid('RS256', privateKey);
    expect(
      await codeOf(
        authenticator.authenticate({ url: '/orders', headers: { authorization: `Bearer ${token}` } }),
      ),
    ).toBe('invalid_signature');
  });

  it('refuses an ES256 signature in DER form (JWS requires r‖s)', async () => {
    const key = generateTestKey('ES256');
    const authenticator = trustWith(key.publicJwk as Record<string, unknown>);
    const token = svid('ES256', key.privateKey);
    const { sign } = await import('node:crypto');
    const input = token.slice(0, token.lastIndexOf('.'));
    const der = sign('sha256', Buffer.from(input), key.privateKey);
    expect(
      await codeOf(
        authenticator.authenticate({
          url: '/orders',
          headers: { authorization: `Bearer ${input}.${der.toString('base64url')}` },
        }),
      ),
    ).toBe('invalid_signature');
  });

  it.each(['EdDSA', 'ES384', 'PS256'])('accepts a WIT signed with a %s bundle key', async (alg) => {
    const world = createWorld(alg);
    const principal = await world.authenticator().authenticate(world.proofRequest());
    expect(principal.id.toString()).toBe(CALLER);
    const wit = world.mintWit();
    const forged = `${wit.slice(0, wit.lastIndexOf('.'))}.${world.mintWit().split('.')[2]}`;
    expect(await codeOf(world.authenticator().authenticate(world.proofRequest(forged)))).toBe(
      'invalid_signature',
    );
  });
});
