import { type CallCredentials, type ChannelCredentials, credentials, Metadata, status } from '@grpc/grpc-js';
import {
  type CallMetadataSource,
  type JwtSvidGrpcClientOptions,
  jwtSvidMetadataSource,
  proofMetadataSource,
  type WimseGrpcClientOptions,
} from './client-credentials.js';

/** What grpc-js gives a metadata generator: `method_name` is the full method path. */
interface GeneratorOptions {
  method_name: string;
  service_url: string;
}

function callCredentialsFrom(source: CallMetadataSource): CallCredentials {
  return credentials.createFromMetadataGenerator((options: GeneratorOptions, callback) => {
    source(options.method_name).then(
      (values) => {
        const metadata = new Metadata();
        for (const [key, value] of Object.entries(values)) metadata.set(key, value);
        callback(null, metadata);
      },
      (error: unknown) => {
        // grpc-js fails the call with this code and message, sending nothing. Say what
        // failed, never a token (signer and provider errors of this library carry none).
        const reason = error instanceof Error ? error.message : 'unknown error';
        callback(
          Object.assign(new Error(`wimse credentials unavailable: ${reason}`), { code: status.UNAVAILABLE }),
        );
      },
    );
  });
}

/**
 * Call credentials that send the workload's WIT and a fresh WPT for every call, its `aud`
 * being the call's audience (`https://<authority>/<package.Service>/<Method>` by default).
 * Compose them with TLS channel credentials, with {@link wimseChannelCredentials} or
 * `grpc.credentials.combineChannelCredentials(grpc.credentials.createSsl(ca), wimseCallCredentials(...))`
 * (grpc-js refuses that composition for insecure channels). grpc-js does not check call
 * credentials passed per call (`{ credentials }` call option) against the channel: pass them
 * that way on TLS channels only. See `wimseClientInterceptor` for the explicit test-only path.
 * @throws TypeError / RangeError for unusable options
 */
export function wimseCallCredentials(options: WimseGrpcClientOptions): CallCredentials {
  return callCredentialsFrom(proofMetadataSource(options));
}

/**
 * Call credentials that send `authorization: Bearer <JWT-SVID>` on every call, from a fixed
 * token or a provider asked per call with the call's audience. A JWT-SVID is a bearer token:
 * send it over TLS only.
 * @throws TypeError for unusable options
 */
export function jwtSvidCallCredentials(options: JwtSvidGrpcClientOptions): CallCredentials {
  return callCredentialsFrom(jwtSvidMetadataSource(options));
}

function secureChannel(channelCredentials: ChannelCredentials): ChannelCredentials {
  if (
    channelCredentials === null ||
    typeof channelCredentials !== 'object' ||
    typeof channelCredentials._isSecure !== 'function'
  ) {
    throw new TypeError(
      'channelCredentials must be grpc-js ChannelCredentials (e.g. grpc.credentials.createSsl())',
    );
  }
  if (!channelCredentials._isSecure()) {
    throw new TypeError(
      'workload credentials are not sent over an insecure channel; use TLS channel credentials, ' +
        'or wimseClientInterceptor with allowInsecureChannel: true for tests',
    );
  }
  return channelCredentials;
}

/**
 * TLS channel credentials that also send the WIT and a fresh WPT on every call: the secure
 * channel combined with {@link wimseCallCredentials}.
 * @throws TypeError for insecure channel credentials or unusable options
 */
export function wimseChannelCredentials(
  channelCredentials: ChannelCredentials,
  options: WimseGrpcClientOptions,
): ChannelCredentials {
  return credentials.combineChannelCredentials(
    secureChannel(channelCredentials),
    wimseCallCredentials(options),
  );
}

/**
 * TLS channel credentials that also send a bearer JWT-SVID on every call: the secure channel
 * combined with {@link jwtSvidCallCredentials}.
 * @throws TypeError for insecure channel credentials or unusable options
 */
export function jwtSvidChannelCredentials(
  channelCredentials: ChannelCredentials,
  options: JwtSvidGrpcClientOptions,
): ChannelCredentials {
  return credentials.combineChannelCredentials(
    secureChannel(channelCredentials),
    jwtSvidCallCredentials(options),
  );
}
