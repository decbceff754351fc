/**
 * WIMSE WIT + WPT and SPIFFE JWT-SVID authentication for `@grpc/grpc-js`: a server
 * interceptor that authenticates and authorizes every call, and client credentials that
 * attach a fresh proof (or a JWT-SVID) per call. Verification, audiences, replay and status
 * mapping are the core's (`@wimse-auth/core`); this package adapts grpc-js to them.
 */
export {
  GRPC_STATUS,
  type GrpcAudienceOptions,
  type GrpcCallInfo,
  type GrpcErrorStatus,
  grpcAudience,
  grpcErrorStatus,
  grpcMethodAudience,
  WIMSE_ERROR_METADATA_KEY,
} from '@wimse-auth/core';
export type { GrpcAuthorization, GrpcAuthorizationRules } from './authorization.js';
export {
  jwtSvidCallCredentials,
  jwtSvidChannelCredentials,
  wimseCallCredentials,
  wimseChannelCredentials,
} from './call-credentials.js';
export type {
  GrpcClientAudience,
  JwtSvidGrpcClientOptions,
  JwtSvidRequest,
  WimseGrpcClientOptions,
} from './client-credentials.js';
export {
  type InsecureChannelOptIn,
  jwtSvidClientInterceptor,
  wimseClientInterceptor,
} from './client-interceptor.js';
export { type CallOrMetadata, getWorkload, requireWorkload } from './principal.js';
export {
  type WimseServerInterceptorAdapterOptions,
  type WimseServerInterceptorOptions,
  wimseServerInterceptor,
} from './server-interceptor.js';
