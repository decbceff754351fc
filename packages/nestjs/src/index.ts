/**
 * NestJS glue for `@wimse-auth/core`: `WimseModule` provides one authenticator, `WimseGuard`
 * authenticates the calling workload (of an HTTP request or a gRPC microservice call) and
 * applies the route's policy decorators, and the parameter decorators hand the principal to
 * handlers.
 *
 * Everything that decides anything (credential extraction, verification, audience, replay,
 * policies, error rendering) is the core's; this package maps Nest requests, metadata and
 * exceptions to it.
 */
export { WIMSE_AUTHENTICATOR, WIMSE_METADATA, WIMSE_MODULE_OPTIONS } from './constants.js';
export {
  AllowTrustDomains,
  AllowWorkloads,
  OptionalAuthentication,
  PublicRoute,
  RequireProofOfPossession,
  SpiffeId,
  type SpiffeIdOptions,
  TrustDomain,
  Workload,
  WorkloadPolicy,
} from './decorators.js';
export { WimseHttpException } from './exception.js';
export { WimseExceptionFilter } from './filter.js';
export { WimseGuard } from './guard.js';
export type { WimseHttpRequest } from './http.js';
export { WimseModule } from './module.js';
export type {
  WimseAdapterOptions,
  WimseModuleAsyncOptions,
  WimseModuleOptions,
  WimseOptions,
  WimseOptionsFactory,
} from './options.js';
export { WimseAuthService } from './service.js';
