import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { SIGNING_ALGORITHMS } from '@wimse-auth/client';

/** Algorithms a test trust domain can sign WITs with, and workload keys can use. */
export type TestAlgorithm =
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'EdDSA';

/** Algorithms a JWT-SVID may be signed with (JWT-SVID §2.1: no EdDSA). */
export type JwtSvidAlgorithm = Exclude<TestAlgorithm, 'EdDSA'>;

// The signer's algorithms, under their one JOSE name each (`EdDSA` rather than `Ed25519`).
const ALGORITHMS: ReadonlySet<string> = new Set(SIGNING_ALGORITHMS.filter((alg) => alg !== 'Ed25519'));

const CURVES: Readonly<Record<string, string>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/**
 * An asymmetric key pair for one algorithm. `privateKey` is a node:crypto `KeyObject`, which
 * `@wimse-auth/client`'s `createWptSigner` accepts as is; `publicJwk` carries `alg`, ready to
 * be a WIT's `cnf.jwk`.
 */
export interface TestKeyPair {
  readonly alg: TestAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as a JWK, with `alg` (no `kid`, no `use`). */
  readonly publicJwk: Readonly<JsonWebKey>;
}

/** A workload's key pair: what a WIT's `cnf.jwk` confirms and what signs its proofs. */
export type WorkloadKey = TestKeyPair;

export function assertAlgorithm(alg: unknown, what: string): asserts alg is TestAlgorithm {
  if (typeof alg !== 'string' || !ALGORITHMS.has(alg)) {
    throw new TypeError(`${what}: unsupported algorithm ${JSON.stringify(alg)}`);
  }
}

/** Generates a fresh key pair for `alg` (default ES256). RSA keys are 2048 bits. */
export function generateKeyPair(alg: TestAlgorithm = 'ES256'): TestKeyPair {
  assertAlgorithm(alg, 'generateKeyPair');
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  if (alg.startsWith('ES')) pair = generateKeyPairSync('ec', { namedCurve: CURVES[alg]! });
  else if (alg === 'EdDSA') pair = generateKeyPairSync('ed25519');
  else pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const publicJwk = Object.freeze({ ...pair.publicKey.export({ format: 'jwk' }), alg });
  return Object.freeze({ alg, privateKey: pair.privateKey, publicKey: pair.publicKey, publicJwk });
}
