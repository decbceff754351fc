import {
  type Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status,
} from '@grpc/grpc-js';
import {
  type Authenticator,
  type AuthenticatorOptions,
  authenticateGrpcCall,
  authenticatorFrom,
  authorize as authorizePrincipal,
  createAuthenticator,
  type GrpcAudienceOptions,
  grpcAudience,
  grpcErrorStatus,
  isWimseError,
  parseGrpcMethodPath,
  type WimseError,
} from '@wimse-auth/core';
import {
  type GrpcAuthorization,
  type MethodAuthorizers,
  methodAuthorizers,
  noRuleError,
} from './authorization.js';
import { trailersFor } from './trailers.js';

/** Options of the interceptor itself (not of the core authenticator). */
export interface WimseServerInterceptorAdapterOptions {
  /**
   * Who may call what, after authentication: one policy for every method (an `Authorizer`,
   * an identifier, a pattern, or a list), or rules per method/service (see
   * {@link GrpcAuthorizationRules}). Default: every authenticated workload.
   */
  authorize?: GrpcAuthorization;
  /**
   * Methods (`/grpc.health.v1.Health/Check`) or services (`grpc.health.v1.Health`) served
   * without authentication: credentials are not read and there is no principal.
   */
  publicMethods?: readonly string[];
  /**
   * Methods or services (same forms as `publicMethods`) where a credential is optional: a
   * call without any credential reaches the handler with no principal (`getWorkload(call)`
   * is `undefined`, authorization is the handler's job), while a call that presents one is
   * authenticated and authorized as everywhere else — an invalid credential is refused, never
   * treated as absent.
   */
  optionalMethods?: readonly string[];
  /**
   * Called for every rejected call, after its status is sent: for logging. `error.code` and
   * `error.message` are safe to log (never token material); do not log the call's metadata.
   */
  onRejected?: (error: WimseError, path: string) => void;
}

/**
 * Options of {@link wimseServerInterceptor}: the core authenticator options with a gRPC
 * `audience` (see the core's `GrpcAudienceOptions`), or `{ authenticator }` built with
 * `createAuthenticator({ audience: grpcAudience(...) })`; plus the adapter options.
 */
export type WimseServerInterceptorOptions = WimseServerInterceptorAdapterOptions &
  (
    | (Omit<AuthenticatorOptions, 'audience'> & { audience: GrpcAudienceOptions; authenticator?: never })
    | { authenticator: Authenticator }
  );

function buildAuthenticator(options: WimseServerInterceptorOptions): Authenticator {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('wimseServerInterceptor options are required');
  }
  const {
    authorize: _authorize,
    publicMethods: _public,
    optionalMethods: _optional,
    onRejected: _onRejected,
    ...source
  } = options;
  if ('authenticator' in source && source.authenticator !== undefined) return authenticatorFrom(source);
  const { audience, ...core } = source as Omit<AuthenticatorOptions, 'audience'> & {
    audience: GrpcAudienceOptions;
  };
  return createAuthenticator({ ...core, audience: grpcAudience(audience) });
}

function methodMatcher(
  entries: readonly string[] | undefined,
  option: 'publicMethods' | 'optionalMethods',
): (path: string) => boolean {
  const exact = new Set<string>();
  for (const entry of entries ?? []) {
    if (typeof entry !== 'string' || entry.length === 0)
      throw new TypeError(`${option} entries must be strings`);
    if (entry.startsWith('/')) parseGrpcMethodPath(entry);
    else if (entry.includes('/'))
      throw new TypeError(`${option} entry ${JSON.stringify(entry)} is malformed`);
    exact.add(entry);
  }
  if (exact.size === 0) return () => false;
  return (path) => {
    if (exact.has(path)) return true;
    try {
      return exact.has(parseGrpcMethodPath(path).service);
    } catch {
      // A hand-written service definition with an unusual path: not public, so authenticated
      // (and, being unparsable, refused): never opened by accident.
      return false;
    }
  };
}

/** Authenticates the call (recording its caller for `getWorkload`) and applies the method's rule. */
async function authenticateCall(
  authenticator: Authenticator,
  authorizers: MethodAuthorizers,
  path: string,
  metadata: Metadata,
  optional: boolean,
): Promise<void> {
  const principal = await authenticateGrpcCall(authenticator, metadata, path, optional);
  if (principal === undefined) return;
  const authorizer = authorizers(path);
  if (authorizer === undefined) throw noRuleError();
  await authorizePrincipal(principal, authorizer);
}

/**
 * A grpc-js server interceptor (grpc-js 1.10+) that authenticates every call once, when its
 * metadata arrives and before the handler runs, for unary and streaming methods alike. The
 * handler's messages wait until the caller is authenticated and authorized; a rejected call
 * ends with `UNAUTHENTICATED`, `PERMISSION_DENIED` or `UNAVAILABLE`, the error's safe message
 * as details and `wimse-error: <code>` in trailing metadata. Handlers read the caller with
 * `getWorkload(call)`.
 *
 * Install with `new grpc.Server({ interceptors: [wimseServerInterceptor(options)] })`.
 * Options are validated now: an empty audience or a malformed rule throws.
 */
export function wimseServerInterceptor(options: WimseServerInterceptorOptions): ServerInterceptor {
  const authenticator = buildAuthenticator(options);
  const authorizers = methodAuthorizers(options.authorize);
  const isPublic = methodMatcher(options.publicMethods, 'publicMethods');
  const isOptional = methodMatcher(options.optionalMethods, 'optionalMethods');
  const onRejected = options.onRejected;
  if (onRejected !== undefined && typeof onRejected !== 'function') {
    throw new TypeError('onRejected must be a function');
  }

  return (methodDescriptor, next: ServerInterceptingCallInterface) => {
    const path = methodDescriptor.path;
    if (isPublic(path)) return new ServerInterceptingCall(next);
    const optional = isOptional(path);
    let ended = false;
    const call: ServerInterceptingCall = new ServerInterceptingCall(next, {
      start: (startNext) => {
        startNext({
          onReceiveMetadata: (metadata, metadataNext) => {
            authenticateCall(authenticator, authorizers, path, metadata, optional).then(
              () => {
                if (ended) return;
                metadataNext(metadata);
              },
              (error: unknown) => {
                if (ended) return;
                ended = true;
                if (isWimseError(error)) {
                  const rejected = grpcErrorStatus(error);
                  call.sendStatus({
                    code: rejected.code,
                    details: rejected.details,
                    metadata: trailersFor(rejected.trailers),
                  });
                  try {
                    onRejected?.(error, path);
                  } catch {
                    // A logging hook must not break the server; the call is already answered.
                  }
                } else {
                  // The core only throws WimseErrors; this is a method path that is not
                  // /<package.Service>/<Method> (a hand-written service definition). Fail
                  // closed without echoing whatever the error says.
                  call.sendStatus({ code: status.INTERNAL, details: 'authentication failed unexpectedly' });
                }
              },
            );
          },
          onCancel: () => {
            ended = true;
          },
        });
      },
    });
    return call;
  };
}
