import type { HttpRequestLike } from '../authenticator/http-request.js';

/**
 * The parts of a gRPC metadata object this package reads (structurally, `@grpc/grpc-js`'s
 * `Metadata`; the core does not depend on grpc-js). `get` returns every value of a key in
 * arrival order, so a key sent twice is seen twice; `getMap` is used only for its keys.
 */
export interface GrpcMetadataLike {
  get(key: string): ReadonlyArray<string | Uint8Array>;
  getMap(): Readonly<Record<string, string | Uint8Array>>;
}

/** What a gRPC call is, for audience resolvers and authorization rules. */
export interface GrpcCallInfo {
  /** The full method path as sent on the wire: `/<package.Service>/<Method>`. */
  readonly path: string;
  /** `<package.Service>`. */
  readonly service: string;
  /** `<Method>`. */
  readonly method: string;
  /** The call's metadata. */
  readonly metadata: GrpcMetadataLike;
}

// A registry symbol (not a module-local one), so a request built by the ESM copy of the core
// is understood by audience options built with the CommonJS copy, and the other way round.
const GRPC_CALL = Symbol.for('@wimse-auth/core.grpcCall');

/** How Node's HTTP/2 layer joins repeated header fields (`, `), tolerating other whitespace. */
const FIELD_SEPARATOR = /[ \t]*,[ \t]*/;

const METHOD_PATH = /^\/([^/\s]+)\/([^/\s]+)$/;

/**
 * Splits a gRPC method path `/<package.Service>/<Method>` into its parts.
 * @throws TypeError when `path` is not of that form
 */
export function parseGrpcMethodPath(path: string): { service: string; method: string } {
  const match = typeof path === 'string' ? METHOD_PATH.exec(path) : null;
  if (match === null) {
    throw new TypeError(`gRPC method path ${JSON.stringify(path)} must be /<package.Service>/<Method>`);
  }
  return { service: match[1]!, method: match[2]! };
}

/**
 * Metadata as the request headers the core authenticator reads: lower-case keys (gRPC keys
 * already are) with every value kept as an array, so a credential key sent twice reaches the
 * core's "exactly once" rule instead of being collapsed. Node's HTTP/2 layer joins repeated
 * fields into one value with `, ` before grpc-js sees them; tokens never contain a comma, so
 * values are split on commas again and a repeated credential still counts twice.
 * Binary (`-bin`) keys never carry workload credentials and are left out. A non-string value
 * under a text key cannot come from grpc-js; it is kept as an empty string so it is refused,
 * never skipped.
 */
function metadataHeaders(metadata: GrpcMetadataLike): Record<string, string[]> {
  const headers = Object.create(null) as Record<string, string[]>;
  for (const key of Object.keys(metadata.getMap())) {
    const name = key.toLowerCase();
    if (name.endsWith('-bin')) continue;
    const values = metadata
      .get(key)
      .flatMap((value) => (typeof value === 'string' ? value.split(FIELD_SEPARATOR) : ['']));
    headers[name] = [...(headers[name] ?? []), ...values];
  }
  return headers;
}

/**
 * The request the core authenticator reads for a gRPC call: the metadata as headers and the
 * method path as the request path, so the core's audience policy with origin
 * `https://<authority>` accepts `https://<authority>/<package.Service>/<Method>`. Every
 * credential rule (one WIT, one proof, never downgrade) is the core's, unchanged.
 * @throws TypeError when `path` is not a gRPC method path
 */
export function grpcRequest(metadata: GrpcMetadataLike, path: string): HttpRequestLike {
  const { service, method } = parseGrpcMethodPath(path);
  if (metadata === null || typeof metadata !== 'object' || typeof metadata.get !== 'function') {
    throw new TypeError('gRPC metadata must be a grpc-js Metadata object');
  }
  const request: HttpRequestLike = { method: 'POST', path, headers: metadataHeaders(metadata) };
  const call: GrpcCallInfo = Object.freeze({ path, service, method, metadata });
  Object.defineProperty(request, GRPC_CALL, { value: call, enumerable: false });
  return request;
}

/** The gRPC call a request built by {@link grpcRequest} stands for, or `undefined` for any other request. */
export function grpcCallOf(request: HttpRequestLike): GrpcCallInfo | undefined {
  const call = (request as unknown as Record<symbol, unknown>)[GRPC_CALL];
  return call === undefined ? undefined : (call as GrpcCallInfo);
}
