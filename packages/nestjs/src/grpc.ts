import type { ExecutionContext } from '@nestjs/common';
import { type GrpcMetadataLike, grpcErrorStatus, type WimseError } from '@wimse-auth/core';

/** The parts of a grpc-js server call a gRPC handler's execution context carries. */
export interface NestGrpcCall {
  /** The call's metadata object (the key of its principal). */
  readonly metadata: GrpcMetadataLike;
  /** The full method path, `/<package.Service>/<Method>`. */
  readonly path: string;
}

interface ServerCallLike {
  metadata: GrpcMetadataLike;
  getPath(): string;
}

function isMetadata(value: unknown): value is GrpcMetadataLike {
  const candidate = value as Partial<GrpcMetadataLike> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.get === 'function' &&
    typeof candidate.getMap === 'function'
  );
}

function isServerCall(value: unknown): value is ServerCallLike {
  const candidate = value as Partial<ServerCallLike> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.getPath === 'function' &&
    isMetadata(candidate.metadata)
  );
}

/**
 * The grpc-js call behind an `rpc` execution context, or `undefined` when the context is not
 * a gRPC one (TCP, Kafka, …). `@GrpcMethod`/`@GrpcStreamMethod` handlers get
 * `(data, metadata, call)`, `@GrpcStreamCall` handlers `(call, callback?)`: the call is found
 * among the arguments by shape, since Nest does not tag the transport.
 */
export function grpcCallOfContext(context: ExecutionContext): NestGrpcCall | undefined {
  if (typeof context.getArgs !== 'function') return undefined;
  const call = context.getArgs().find(isServerCall);
  if (call === undefined) return undefined;
  const path = call.getPath();
  return typeof path === 'string' ? { metadata: call.metadata, path } : undefined;
}

/** The metadata of a gRPC execution context (for the parameter decorators). */
export function grpcMetadataOfContext(context: ExecutionContext): GrpcMetadataLike | undefined {
  return grpcCallOfContext(context)?.metadata;
}

interface MetadataWithSet extends GrpcMetadataLike {
  set(key: string, value: string): void;
}

/**
 * Trailing metadata of the same grpc-js copy as the call's own metadata (this package does
 * not depend on grpc-js; the call's `Metadata` class is the one the server will serialise).
 */
function trailersLike(
  metadata: GrpcMetadataLike,
  values: Readonly<Record<string, string>>,
): MetadataWithSet | undefined {
  const Constructor = (metadata as { constructor?: unknown }).constructor;
  if (typeof Constructor !== 'function') return undefined;
  const trailers = new (Constructor as new () => MetadataWithSet)();
  if (typeof trailers.set !== 'function') return undefined;
  for (const [key, value] of Object.entries(values)) trailers.set(key, value);
  return trailers;
}

interface RpcExceptionConstructor {
  new (error: string | object): Error;
}

let rpcException: Promise<RpcExceptionConstructor> | undefined;

/**
 * `RpcException` from `@nestjs/microservices`, loaded on first use: it is an optional peer,
 * needed only by apps that serve gRPC (which have it installed to do so).
 */
function loadRpcException(): Promise<RpcExceptionConstructor> {
  rpcException ??= import('@nestjs/microservices').then(
    (module) => {
      // CommonJS package: named export when Node detects it, else on the default export.
      const loaded = module as unknown as {
        RpcException?: RpcExceptionConstructor;
        default?: { RpcException?: RpcExceptionConstructor };
      };
      const RpcException = loaded.RpcException ?? loaded.default?.RpcException;
      if (RpcException === undefined) throw new Error('@nestjs/microservices has no RpcException');
      return RpcException;
    },
    (cause: unknown) => {
      rpcException = undefined;
      throw new Error('gRPC support in @wimse-auth/nestjs needs @nestjs/microservices', { cause });
    },
  );
  return rpcException;
}

/**
 * A core error as the `RpcException` Nest's gRPC transport turns into a status: `code`
 * `UNAUTHENTICATED` (16), `PERMISSION_DENIED` (7) or `UNAVAILABLE` (14), the safe message as
 * details, and `wimse-error: <code>` in trailing metadata.
 */
export async function grpcException(error: WimseError, call: NestGrpcCall): Promise<Error> {
  const RpcException = await loadRpcException();
  const status = grpcErrorStatus(error);
  const trailers = trailersLike(call.metadata, status.trailers);
  const exception = new RpcException({
    code: status.code,
    message: status.details,
    details: status.details,
    ...(trailers === undefined ? {} : { metadata: trailers }),
  });
  Object.defineProperty(exception, 'cause', { value: error, enumerable: false });
  return exception;
}
