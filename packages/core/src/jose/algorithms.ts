/** JWS algorithms a JWT-SVID may use (JWT-SVID.md §2.1). */
export const JWT_SVID_ALGORITHMS: readonly string[] = Object.freeze([
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
  'PS256',
  'PS384',
  'PS512',
]);

/**
 * Asymmetric JWS algorithms accepted for WITs and proofs under the generic WIMSE profile.
 * `EdDSA` (and its fully-specified name `Ed25519`) is legal in WIMSE and used by the
 * drafts' own example; the WIT-SVID profile narrows this to {@link JWT_SVID_ALGORITHMS}.
 */
export const WIMSE_ALGORITHMS: readonly string[] = Object.freeze([
  ...JWT_SVID_ALGORITHMS,
  'EdDSA',
  'Ed25519',
]);

/** Which key type (and curve) each accepted algorithm needs. */
const KEY_SHAPES: Readonly<Record<string, { kty: string; crv?: string }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

/** Members only a private or symmetric JWK has (RFC 7518 §6, plus AKP's `priv`). */
export const PRIVATE_JWK_MEMBERS: readonly string[] = Object.freeze([
  'd',
  'p',
  'q',
  'dp',
  'dq',
  'qi',
  'oth',
  'k',
  'priv',
]);

/** True when the JWK carries any private or symmetric key material. */
export function hasPrivateMembers(jwk: Readonly<Record<string, unknown>>): boolean {
  return PRIVATE_JWK_MEMBERS.some((name) => jwk[name] !== undefined);
}

/** True for the public key shapes some accepted algorithm can use: RSA, EC P-256/384/521, OKP Ed25519. */
export function isSupportedKeyShape(kty: unknown, crv: unknown): boolean {
  if (kty === 'RSA') return true;
  for (const shape of Object.values(KEY_SHAPES)) if (shape.kty === kty && shape.crv === crv) return true;
  return false;
}

/** True when a public key of type `kty`/`crv` can verify `alg` signatures. */
export function keyFitsAlgorithm(alg: string, kty: unknown, crv: unknown): boolean {
  const shape = KEY_SHAPES[alg];
  if (shape === undefined || shape.kty !== kty) return false;
  return shape.crv === undefined || shape.crv === crv;
}

/**
 * The one algorithm a key unambiguously implies, for legacy WITs without `cnf.jwk.alg`.
 * RSA keys imply several algorithms, so they yield `undefined`.
 */
export function impliedAlgorithm(kty: unknown, crv: unknown): string | undefined {
  if (kty === 'OKP' && crv === 'Ed25519') return 'EdDSA';
  if (kty === 'EC' && crv === 'P-256') return 'ES256';
  if (kty === 'EC' && crv === 'P-384') return 'ES384';
  if (kty === 'EC' && crv === 'P-521') return 'ES512';
  return undefined;
}
