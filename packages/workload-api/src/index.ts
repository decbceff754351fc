export type { BackoffOptions } from './backoff.js';
export {
  WorkloadApiBundleSource,
  type WorkloadApiBundleSourceOptions,
} from './bundle-source.js';
export {
  type FetchJwtSvidParameters,
  type JwtBundlesWatcher,
  type JwtSvid,
  type StreamHandle,
  type ValidatedJwtSvid,
  type WitSvid,
  WorkloadApiClient,
  type WorkloadApiClientOptions,
} from './client.js';
export {
  type EndpointAddress,
  type EndpointAddressProblem,
  InvalidEndpointAddressError,
  parseEndpointAddress,
  resolveEndpointAddress,
  SPIFFE_ENDPOINT_SOCKET,
} from './endpoint-address.js';
export { WorkloadApiError, type WorkloadApiErrorCode } from './errors.js';
export {
  type JwtSvidParameters,
  WorkloadApiJwtSource,
  type WorkloadApiJwtSourceOptions,
} from './jwt-source.js';
export {
  type JwtBundlesRequestMessage,
  type JwtBundlesResponseMessage,
  type JwtSvidMessage,
  type JwtSvidRequestMessage,
  type JwtSvidResponseMessage,
  jsonToStruct,
  type ProtoStruct,
  type ProtoValue,
  structToJson,
  type ValidateJwtSvidRequestMessage,
  type ValidateJwtSvidResponseMessage,
  type WitBundlesRequestMessage,
  type WitBundlesResponseMessage,
  type WitSvidMessage,
  type WitSvidRequestMessage,
  type WitSvidResponseMessage,
  WORKLOAD_API_PROTO_PATH,
  WORKLOAD_API_SECURITY_HEADER,
  type WorkloadApiService,
  workloadApiService,
} from './protocol.js';
