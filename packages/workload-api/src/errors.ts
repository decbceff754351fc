import { status as GrpcStatus } from '@grpc/grpc-js';

/** Stable codes of {@link WorkloadApiError}. */
export type WorkloadApiErrorCode =
  /** `UNIMPLEMENTED`: the server does not offer this RPC (the optional WIT-SVID profile, say). Not retried. */
  | 'not_supported'
  /** `INVALID_ARGUMENT`: the server refused the request itself (a missing security header). Not retried. */
  | 'invalid_argument'
  /** `PERMISSION_DENIED`: the agent has no identity for this workload (yet). Retried with backoff. */
  | 'permission_denied'
  /** `UNAVAILABLE` (or `CANCELLED` by the server): the agent is not running, starting, busy or restarting. Retried with backoff. */
  | 'unavailable'
  /** The call's deadline passed. Retried with backoff. */
  | 'deadline_exceeded'
  /** The server answered with a message this client cannot use (no SVID, a malformed token). */
  | 'invalid_response'
  /** The client was closed. */
  | 'closed'
  /** Any other gRPC status. Retried with backoff. */
  | 'grpc_error';

const NOT_RETRYABLE: ReadonlySet<WorkloadApiErrorCode> = new Set([
  'not_supported',
  'invalid_argument',
  'closed',
]);

function codeOf(grpcStatus: number): WorkloadApiErrorCode {
  switch (grpcStatus) {
    case GrpcStatus.UNIMPLEMENTED:
      return 'not_supported';
    case GrpcStatus.INVALID_ARGUMENT:
      return 'invalid_argument';
    case GrpcStatus.PERMISSION_DENIED:
      return 'permission_denied';
    case GrpcStatus.UNAVAILABLE:
    // This client never cancels a call it still reports on: CANCELLED means the server went
    // away mid-call (an agent shutting down cancels its streams).
    case GrpcStatus.CANCELLED:
      return 'unavailable';
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 'deadline_exceeded';
    default:
      return 'grpc_error';
  }
}

/**
 * A Workload API call failed. `code` is stable and safe to log; `grpcStatus` is the
 * numeric gRPC status when the server (or the channel) gave one; `retryable` follows the
 * specification's client actions (Workload API, Appendix A).
 */
export class WorkloadApiError extends Error {
  override readonly name = 'WorkloadApiError';
  readonly code: WorkloadApiErrorCode;
  readonly grpcStatus: number | undefined;
  readonly retryable: boolean;

  constructor(
    code: WorkloadApiErrorCode,
    message: string,
    options: { grpcStatus?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.grpcStatus = options.grpcStatus;
    this.retryable = !NOT_RETRYABLE.has(code);
  }

  /** Wraps a `@grpc/grpc-js` call error (a `ServiceError`). */
  static fromGrpc(method: string, error: unknown): WorkloadApiError {
    if (error instanceof WorkloadApiError) return error;
    const grpcStatus = (error as { code?: unknown } | null)?.code;
    if (typeof grpcStatus !== 'number') {
      return new WorkloadApiError('grpc_error', `${method} failed`, { cause: error });
    }
    const name = GrpcStatus[grpcStatus] ?? String(grpcStatus);
    // `details` is the server's text; it describes the failure, never carries a token.
    const details = (error as { details?: unknown }).details;
    const suffix = typeof details === 'string' && details.length > 0 ? `: ${details}` : '';
    return new WorkloadApiError(codeOf(grpcStatus), `${method} failed with ${name}${suffix}`, {
      grpcStatus,
      cause: error,
    });
  }
}
