import type { Metadata } from '@grpc/grpc-js';
import { grpcPrincipalOf, type WorkloadPrincipal } from '@wimse-auth/core';

/** Any grpc-js server call (unary, streaming) or its metadata. */
export type CallOrMetadata = { readonly metadata: Metadata } | Metadata;

function metadataOf(callOrMetadata: CallOrMetadata): Metadata | undefined {
  if (callOrMetadata === null || typeof callOrMetadata !== 'object') return undefined;
  return 'metadata' in callOrMetadata ? callOrMetadata.metadata : callOrMetadata;
}

/**
 * The workload the interceptor authenticated for this call, given the handler's `call`
 * (`ServerUnaryCall`, `ServerWritableStream`, …) or its `call.metadata`. `undefined` for
 * public methods and calls the interceptor did not see.
 */
export function getWorkload(call: CallOrMetadata): WorkloadPrincipal | undefined {
  return grpcPrincipalOf(metadataOf(call));
}

/**
 * Like {@link getWorkload}, but throws when there is no principal: a handler that relies on
 * an authenticated caller fails loudly if the interceptor was not installed.
 * @throws Error when the call was not authenticated by the interceptor
 */
export function requireWorkload(call: CallOrMetadata): WorkloadPrincipal {
  const principal = getWorkload(call);
  if (principal === undefined) {
    throw new Error('this call was not authenticated: is the wimse server interceptor installed?');
  }
  return principal;
}
