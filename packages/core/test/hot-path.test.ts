import { beforeEach, describe, expect, it, vi } from 'vitest';

const counters = vi.hoisted(() => ({ verifications: 0, proofs: 0, imports: 0 }));

vi.mock('jose', async (importOriginal) => {
  const jose = await importOriginal<typeof import('jose')>();
  return {
    ...jose,
    compactVerify: (...args: Parameters<typeof jose.compactVerify>) => {
      counters.verifications++;
      return jose.compactVerify(...args);
    },
    importJWK: (...args: Parameters<typeof jose.importJWK>) => {
      counters.imports++;
      return jose.importJWK(...args);
    },
  };
});

vi.mock('../src/verify/proof-signature.js', async (importOriginal) => {
  const module = await importOriginal<typeof import('../src/verify/proof-signature.js')>();
  return {
    ...module,
    verifyProofSignature: (...args: Parameters<typeof module.verifyProofSignature>) => {
      counters.proofs++;
      return module.verifyProofSignature(...args);
    },
  };
});

const { createWorld } = await import('./support/world.js');

describe('hot path cost', () => {
  beforeEach(() => {
    counters.verifications = 0;
    counters.proofs = 0;
    counters.imports = 0;
  });

  it('verifies one signature per WIT + WPT request once the WIT was seen, importing no key again', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    const wit = world.mintWit();
    await authenticator.authenticate(world.proofRequest(wit));
    // The WIT through jose, the proof through the one-shot check.
    expect(counters.verifications).toBe(1);
    expect(counters.proofs).toBe(1);
    const importsAfterFirst = counters.imports;
    for (let i = 0; i < 5; i++) await authenticator.authenticate(world.proofRequest(wit));
    expect(counters.verifications).toBe(1);
    expect(counters.proofs).toBe(1 + 5);
    expect(counters.imports).toBe(importsAfterFirst);
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

  it('verifies a repeated JWT-SVID once', async () => {
    const world = createWorld();
    const authenticator = world.authenticator();
    const svid = world.mintJwtSvid();
    for (let i = 0; i < 3; i++) {
      await authenticator.authenticate({ url: '/orders', headers: { authorization: `Bearer ${svid}` } });
    }
    expect(counters.verifications).toBe(1);
  });

  it('caching can be turned off', async () => {
    const world = createWorld();
    const authenticator = world.authenticator({ cacheSize: { wit: 0 } });
    const wit = world.mintWit();
    await authenticator.authenticate(world.proofRequest(wit));
    await authenticator.authenticate(world.proofRequest(wit));
    expect(counters.verifications).toBe(2);
    expect(counters.proofs).toBe(2);
  });
});
