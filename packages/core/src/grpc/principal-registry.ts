import type { WorkloadPrincipal } from '../authenticator/principal.js';
import type { GrpcMetadataLike } from './metadata-request.js';

// One registry per process, shared by every copy of the core (ESM, CommonJS, duplicated
// installs), so a principal set by the grpc-js interceptor is seen by the Nest guard and the
// same proof is never verified twice (the second check would be a replay).
const REGISTRY_KEY = Symbol.for('@wimse-auth/core.grpcPrincipals');

function registry(): WeakMap<object, WorkloadPrincipal> {
  const holder = globalThis as unknown as Record<symbol, WeakMap<object, WorkloadPrincipal> | undefined>;
  let map = holder[REGISTRY_KEY];
  if (map === undefined) {
    map = new WeakMap();
    Object.defineProperty(globalThis, REGISTRY_KEY, { value: map, enumerable: false });
  }
  return map;
}

/**
 * Records the authenticated caller of the call whose metadata object this is. Handlers of
 * grpc-js (and Nest) receive that same object as `call.metadata`, so it identifies the call.
 */
export function setGrpcPrincipal(metadata: GrpcMetadataLike, principal: WorkloadPrincipal): void {
  registry().set(metadata, principal);
}

/** The caller recorded for the call with this metadata object, if it was authenticated. */
export function grpcPrincipalOf(
  metadata: GrpcMetadataLike | undefined | null,
): WorkloadPrincipal | undefined {
  if (metadata === undefined || metadata === null || typeof metadata !== 'object') return undefined;
  return registry().get(metadata);
}
