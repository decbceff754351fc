// Injection tokens and metadata keys. Plain strings (not classes or unique symbols), so the
// ESM and CJS builds of this package, if an app happens to load both, agree on them.

/** Injection token of the core `Authenticator` the module provides. */
export const WIMSE_AUTHENTICATOR = '@wimse-auth/nestjs:authenticator';
/** Injection token of the options given to `WimseModule.forRoot`/`forRootAsync`. */
export const WIMSE_MODULE_OPTIONS = '@wimse-auth/nestjs:options';

/** Metadata keys read by `WimseGuard` (with `Reflector.getAllAndOverride`). */
export const WIMSE_METADATA = {
  publicRoute: '@wimse-auth/nestjs:public-route',
  optionalAuthentication: '@wimse-auth/nestjs:optional-authentication',
  allowWorkloads: '@wimse-auth/nestjs:allow-workloads',
  allowTrustDomains: '@wimse-auth/nestjs:allow-trust-domains',
  requireProofOfPossession: '@wimse-auth/nestjs:require-proof-of-possession',
  workloadPolicy: '@wimse-auth/nestjs:workload-policy',
} as const;
