export {
  type GrpcAudienceOptions,
  grpcAudience,
  grpcAuthorityOrigin,
  grpcMethodAudience,
} from './audience.js';
export { authenticateGrpcCall } from './authenticate-call.js';
export {
  type GrpcCallInfo,
  type GrpcMetadataLike,
  grpcCallOf,
  grpcRequest,
  parseGrpcMethodPath,
} from './metadata-request.js';
export { grpcPrincipalOf, setGrpcPrincipal } from './principal-registry.js';
export { GRPC_STATUS, type GrpcErrorStatus, grpcErrorStatus, WIMSE_ERROR_METADATA_KEY } from './status.js';
