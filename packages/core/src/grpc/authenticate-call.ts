import { type Authenticator, authenticateRequest } from '../authenticator/authenticator.js';
import type { WorkloadPrincipal } from '../authenticator/principal.js';
import { type GrpcMetadataLike, grpcRequest } from './metadata-request.js';
import { grpcPrincipalOf, setGrpcPrincipal } from './principal-registry.js';

/**
 * Authenticates a gRPC call once, for every adapter on the path (the grpc-js interceptor,
 * the Nest guard): a caller already recorded for this call's metadata is returned as it is,
 * since verifying the same proof again would look like a replay; otherwise the metadata is
 * authenticated and the caller recorded. `optional`: a call with no credential at all
 * resolves to `undefined` (an invalid one is still refused).
 * @throws WimseError
 */
export async function authenticateGrpcCall(
  authenticator: Authenticator,
  metadata: GrpcMetadataLike,
  path: string,
  optional = false,
): Promise<WorkloadPrincipal | undefined> {
  const recorded = grpcPrincipalOf(metadata);
  if (recorded !== undefined) return recorded;
  const request = grpcRequest(metadata, path);
  const principal = await authenticateRequest(authenticator, request, !optional);
  if (principal !== undefined) setGrpcPrincipal(metadata, principal);
  return principal;
}
