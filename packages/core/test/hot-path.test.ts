import { beforeEach, describe, expect, it, vi } from 'vitest';

const counters = vi.hoisted(() => ({ verifications: 0, imports: 0 }));

vi.mock('jose', async (importOriginal) => {
  const jose = await importOriginal<typeof import('jose')>();
  return {
    ...jose,
    compactVerify: () => {
      throw new Error('signatures are verified with node:crypto, not jose');
    },
    importJWK: (...args: Parameters<typeof jose.importJWK>) => {
      counters.imports++;
      return jose.importJWK(...args);
    },
  };
});

// Every signature (WIT, WPT, JWT-SVID) is checked by this one function.
vi.mock('../src/verify/jws-signature.js', async (importOriginal) => {
  const module = await importOriginal<typeof import('../src/verify/jws-signature.js')>();
  return {
    ...module,
    verifyJwsSignature: (...args: Parameters<typeof module.verifyJwsSignature>) => {
      counters.verifications++;
      return module.verifyJwsSignature(...args);
    },
  };
});

const { createWorld } = await import('./support/world.js');

describe('hot path cost', () => {
  beforeEach(() => {
    counters.verifications = 0;
    counters.imports = 0;
  });

  it('verifies one signature per WIT + WPT request once the WIT was seen twice, importing no key again', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    const wit = world.mintWit();
    await authenticator.authenticate(world.proofRequest(wit));
    // The WIT and the proof.
    expect(counters.verifications).toBe(2);
    // The second sighting verifies the WIT again, and caches it.
    await authenticator.authenticate(world.proofRequest(wit));
    expect(counters.verifications).toBe(4);
    const importsAfterSecond = counters.imports;
    for (let i = 0; i < 5; i++) await authenticator.authenticate(world.proofRequest(wit));
    // The cached WIT is not verified again: one signature per request.
    expect(counters.verifications).toBe(4 + 5);
    expect(counters.imports).toBe(importsAfterSecond);
  });

  it('imports a bundle key once for all the WITs it signed', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    await authenticator.authenticate(world.proofRequest());
    const afterFirst = counters.imports;
    await authenticator.authenticate(world.proofRequest());
    // Only the new WIT's confirmation key is imported; the issuer key is reused.
    expect(counters.imports).toBe(afterFirst + 1);
  });

  it('verifies a repeated JWT-SVID twice, then never again', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    const svid = world.mintJwtSvid();
    for (let i = 0; i < 5; i++) {
      await authenticator.authenticate({ url: '/orders', headers: { authorization: `Bearer ${svid}` } });
    }
    expect(counters.verifications).toBe(2);
  });

  it('verifies every JWT-SVID sent once, each a cache miss', async () => {
    const world = createWorld();
    const events: string[] = [];
    const authenticator = world.authenticator({ onEvent: (event) => events.push(event.name) });
    for (let i = 0; i < 5; i++) {
      const svid = world.mintJwtSvid();
      await authenticator.authenticate({ url: '/orders', headers: { authorization: `Bearer ${svid}` } });
    }
    expect(counters.verifications).toBe(5);
    expect(events.filter((name) => name === 'cache.miss')).toHaveLength(5);
    expect(events).not.toContain('cache.hit');
  });

  it('verifies a repeated token twice per process, across connections', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    const svid = world.mintJwtSvid();
    const wit = world.mintWit();
    for (const connection of [{}, {}, {}]) {
      for (let i = 0; i < 2; i++) {
        await authenticator.authenticate({
          url: '/orders',
          headers: { authorization: `Bearer ${svid}` },
          connection,
        });
        await authenticator.authenticate({ ...world.proofRequest(wit), connection });
      }
    }
    // The JWT-SVID twice, the WIT twice, and the six proofs.
    expect(counters.verifications).toBe(2 + 2 + 6);
  });

  it('caching can be turned off', async () => {
    const world = createWorld();
    const authenticator = world.authenticator({ cacheSize: { wit: 0 } });
    const wit = world.mintWit();
    await authenticator.authenticate(world.proofRequest(wit));
    await authenticator.authenticate(world.proofRequest(wit));
    // Two WIT and two proof verifications.
    expect(counters.verifications).toBe(4);
  });
});
