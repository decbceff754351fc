// Errors and their HTTP rendering

// The request authenticator
export type { AudienceOptions } from './authenticator/audience-policy.js';
export {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthenticatorSource,
  authenticateRequest,
  authenticatorFrom,
  CREDENTIAL_KINDS,
  createAuthenticator,
} from './authenticator/authenticator.js';
export {
  type HeaderValue,
  type HttpRequestLike,
  type NodeHeaderViews,
  nodeRequestHeaders,
  type RequestHeaders,
} from './authenticator/http-request.js';
export type { WitDetails, WorkloadPrincipal } from './authenticator/principal.js';
// Authorization
export * from './authorization/policies.js';
export * from './errors/challenge.js';
export * from './errors/errors.js';
// gRPC: metadata as a request, method audiences, status mapping (no grpc-js dependency)
export * from './grpc/index.js';
// Identifiers
export * from './identifiers/spiffe-id.js';
export * from './identifiers/workload-identifier.js';
// Token verifiers, usable on their own
export { JWT_SVID_ALGORITHMS, WIMSE_ALGORITHMS } from './jose/algorithms.js';
export type { JoseHeader } from './jose/compact-token.js';
// Observability
export {
  DIAGNOSTICS_CHANNEL_PREFIX,
  EventEmitter as WimseEventEmitter,
  type WimseEvent,
  type WimseEventListener,
  type WimseEventName,
} from './observability/events.js';
export { MemoryReplayStore, type MemoryReplayStoreOptions } from './replay/memory-replay-store.js';
// Replay protection
export type { ReplayStore } from './replay/replay-store.js';
export * from './trust/bundle-set.js';
// Trust
export type { BundleSource } from './trust/bundle-source.js';
export { isBundleSource } from './trust/bundle-source.js';
export * from './trust/federated-bundle-source.js';
export * from './trust/file-bundle-source.js';
export * from './trust/jwt-bundle.js';
export * from './trust/oidc-discovery-bundle-source.js';
export {
  type BundleLoader,
  type LoadResult,
  RemoteBundleSource,
  type RemoteBundleSourceOptions,
  type RemoteBundleSourceStatus,
} from './trust/remote-bundle-source.js';
export {
  type FetchFunction,
  type FetchRequestInit,
  type FetchResponseLike,
  type RemoteFetchOptions,
  RemoteTrustError,
  type RemoteTrustFailureReason,
} from './trust/remote-fetch.js';
export * from './trust/static-bundle-source.js';
export type { Clock, IssuerPolicy, TimeOptions } from './verify/common-options.js';
export { DEFAULT_CLOCK_TOLERANCE } from './verify/common-options.js';
export type { ConfirmationKey } from './verify/confirmation-key.js';
export { type VerifiedJwtSvid, type VerifyJwtSvidOptions, verifyJwtSvid } from './verify/jwt-svid.js';
export {
  type LegacyOptions,
  type VerifiedWit,
  type VerifyWitOptions,
  verifyWit,
  type WitProfile,
} from './verify/wit.js';
export {
  DEFAULT_MAX_PROOF_LIFETIME,
  type ProofBinding,
  type VerifiedWpt,
  type VerifyWptOptions,
  verifyWpt,
} from './verify/wpt.js';
