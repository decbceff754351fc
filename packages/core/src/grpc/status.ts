import type { WimseError, WimseErrorCode } from '../errors/errors.js';

/** The gRPC status codes authentication failures map to (numbers from the gRPC spec). */
export const GRPC_STATUS = Object.freeze({
  /** Code 16: the call did not prove which workload sent it. */
  UNAUTHENTICATED: 16,
  /** Code 7: the caller is authenticated, but policy does not allow it here. */
  PERMISSION_DENIED: 7,
  /** Code 14: trust material or the replay store is unavailable; the call may be retried. */
  UNAVAILABLE: 14,
} as const);

/** The trailing metadata key carrying the stable error code (`wimse-error: audience_mismatch`). */
export const WIMSE_ERROR_METADATA_KEY = 'wimse-error';

/** A rejected call's status, ready to be sent by a gRPC server. */
export interface GrpcErrorStatus {
  readonly code: (typeof GRPC_STATUS)[keyof typeof GRPC_STATUS];
  /** The error's message: safe to send, never token material. */
  readonly details: string;
  /** Trailing metadata: `wimse-error` with the stable code. */
  readonly trailers: Readonly<Record<typeof WIMSE_ERROR_METADATA_KEY, WimseErrorCode>>;
}

/**
 * The gRPC status for a core error: 401 failures are `UNAUTHENTICATED`, 403 are
 * `PERMISSION_DENIED`, 503 are `UNAVAILABLE`; the code travels in trailing metadata.
 */
export function grpcErrorStatus(error: WimseError): GrpcErrorStatus {
  const code =
    error.status === 403
      ? GRPC_STATUS.PERMISSION_DENIED
      : error.status === 503
        ? GRPC_STATUS.UNAVAILABLE
        : GRPC_STATUS.UNAUTHENTICATED;
  return Object.freeze({
    code,
    details: error.message,
    trailers: Object.freeze({ [WIMSE_ERROR_METADATA_KEY]: error.code }),
  });
}
