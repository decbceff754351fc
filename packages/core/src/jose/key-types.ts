import type { webcrypto } from 'node:crypto';

/**
 * A public JSON Web Key as this library exposes it. Declared here rather than imported
 * from jose so that our CommonJS type declarations do not import an ESM-only package
 * (TypeScript's `module: node16` would reject that in consumers' type checks).
 */
export interface PublicJwk {
  readonly kty: string;
  readonly kid?: string;
  readonly alg?: string;
  readonly crv?: string;
  readonly x?: string;
  readonly y?: string;
  readonly n?: string;
  readonly e?: string;
  readonly [member: string]: unknown;
}

/** An imported verification key (Node's Web Crypto `CryptoKey`). */
export type VerificationKey = webcrypto.CryptoKey;
