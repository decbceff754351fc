import { InterceptingCall, type Interceptor, Metadata, status } from '@grpc/grpc-js';
import {
  type CallMetadataSource,
  type JwtSvidGrpcClientOptions,
  jwtSvidMetadataSource,
  proofMetadataSource,
  type WimseGrpcClientOptions,
} from './client-credentials.js';

/**
 * The explicit opt-in an interceptor needs. An interceptor cannot see whether its channel
 * uses TLS, so creating one is the caller's statement that the transport is acceptable:
 * tests on 127.0.0.1, or a Unix socket to a sidecar that provides mTLS.
 */
export interface InsecureChannelOptIn {
  allowInsecureChannel: true;
}

function interceptorFrom(source: CallMetadataSource, optIn: unknown): Interceptor {
  if ((optIn as Partial<InsecureChannelOptIn> | undefined)?.allowInsecureChannel !== true) {
    throw new TypeError(
      'client interceptors attach credentials without knowing whether the channel is secure: ' +
        'pass allowInsecureChannel: true (tests, sidecar sockets) or use call credentials over TLS',
    );
  }
  return (options, nextCall) => {
    const path = options.method_definition.path;
    const next = nextCall(options);
    return new InterceptingCall(next, {
      start: (metadata, listener, start) => {
        source(path).then(
          (values) => {
            for (const [key, value] of Object.entries(values)) metadata.set(key, value);
            start(metadata, listener);
          },
          (error: unknown) => {
            // Same outcome as failing call credentials in grpc-js: UNAVAILABLE, nothing sent.
            const details = `wimse credentials unavailable: ${error instanceof Error ? error.message : 'unknown error'}`;
            next.cancelWithStatus(status.UNAVAILABLE, details);
            listener.onReceiveStatus({ code: status.UNAVAILABLE, details, metadata: new Metadata() });
          },
        );
      },
    });
  };
}

/**
 * A client interceptor attaching the WIT and a fresh WPT to every call, for channels that
 * cannot carry call credentials (grpc-js refuses them on insecure channels). Requires
 * `allowInsecureChannel: true`; prefer {@link wimseCallCredentials} over TLS.
 * Install with `new Client(target, grpc.credentials.createInsecure(), { interceptors: [...] })`.
 */
export function wimseClientInterceptor(options: WimseGrpcClientOptions & InsecureChannelOptIn): Interceptor {
  const { allowInsecureChannel, ...rest } = options;
  return interceptorFrom(proofMetadataSource(rest as WimseGrpcClientOptions), { allowInsecureChannel });
}

/**
 * A client interceptor attaching a bearer JWT-SVID to every call. Requires
 * `allowInsecureChannel: true`: over an insecure channel anyone on the path can replay the
 * token until it expires, so use this for loopback tests only.
 */
export function jwtSvidClientInterceptor(
  options: JwtSvidGrpcClientOptions & InsecureChannelOptIn,
): Interceptor {
  const { allowInsecureChannel, ...rest } = options;
  return interceptorFrom(jwtSvidMetadataSource(rest as JwtSvidGrpcClientOptions), { allowInsecureChannel });
}
