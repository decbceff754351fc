import {
  createWptSigner,
  type WptSigner,
  type WptSignerOptions,
  type WptTransport,
} from '@wimse-auth/client';
import { grpcAuthorityOrigin, grpcMethodAudience, parseGrpcMethodPath } from '@wimse-auth/core';

/**
 * Where a call's audience comes from. `authority`: the name the server lists in its
 * `audience.authorities` (the audience is `https://<authority>/<package.Service>/<Method>`);
 * `audience`: a fixed string for every call (for example the server's SPIFFE ID) or a
 * function of the method path. Exactly one is required: the channel target is not used,
 * since what the client dials (an IP, a load balancer) is rarely what the server lists.
 */
export type GrpcClientAudience =
  | { authority: string; audience?: never }
  | { audience: string | ((path: string) => string); authority?: never };

/** Options of the WIT + WPT client credentials. */
export type WimseGrpcClientOptions = GrpcClientAudience &
  (WptSignerOptions | { signer: WptSigner }) & {
    /** Where the proof travels: `authorization: WPT <wpt>` (default) or `workload-proof-token`. */
    transport?: WptTransport;
    /** Proof lifetime in seconds (default: the signer's, 60). */
    ttlSeconds?: number;
  };

/** What a JWT-SVID provider is told about the call it is asked for. */
export interface JwtSvidRequest {
  /** The method path (`/echo.Echo/UnaryEcho`). */
  readonly path: string;
  /** The audience the configuration names for this call. */
  readonly audience: string;
}

/** Options of the JWT-SVID client credentials. */
export type JwtSvidGrpcClientOptions = GrpcClientAudience & {
  /**
   * The JWT-SVID to send, or a provider of the current one for a call (for example a SPIFFE
   * Workload API client fetching a JWT-SVID for `request.audience`).
   */
  token: string | ((request: JwtSvidRequest) => string | Promise<string>);
};

/** Produces the credential metadata (key → value) for one call. */
export type CallMetadataSource = (path: string) => Promise<Readonly<Record<string, string>>>;

function audienceFor(options: GrpcClientAudience): (path: string) => string {
  if (options === null || typeof options !== 'object') throw new TypeError('client options are required');
  const { authority, audience } = options as { authority?: string; audience?: unknown };
  if ((authority === undefined) === (audience === undefined)) {
    throw new TypeError('set exactly one of authority or audience');
  }
  if (authority !== undefined) {
    grpcAuthorityOrigin(authority);
    return (path) => grpcMethodAudience(authority, path);
  }
  if (typeof audience === 'string' && audience.length > 0) return () => audience;
  if (typeof audience === 'function') {
    return (path) => {
      const value: unknown = audience(path);
      if (typeof value !== 'string' || value.length === 0)
        throw new TypeError('audience() returned no audience');
      return value;
    };
  }
  throw new TypeError('audience must be a non-empty string or a function');
}

/**
 * The per-call metadata of a workload holding a WIT and its key: the WIT and a fresh proof
 * whose `aud` is the call's audience. Validated now (a static WIT is checked against the key).
 */
export function proofMetadataSource(options: WimseGrpcClientOptions): CallMetadataSource {
  const audience = audienceFor(options);
  const transport = options.transport ?? 'wpt-authorization';
  if (transport !== 'wpt-authorization' && transport !== 'wpt-header') {
    throw new TypeError(`unknown transport ${JSON.stringify(transport)}`);
  }
  const signer =
    'signer' in options && options.signer !== undefined
      ? options.signer
      : createWptSigner(options as WptSignerOptions);
  return async (path) => {
    parseGrpcMethodPath(path);
    const aud = audience(path);
    const signed = await signer.sign({
      url: `https://wimse.invalid${path}`, // unused: the audience is always given explicitly
      audience: aud,
      ...(options.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }),
    });
    return transport === 'wpt-authorization'
      ? { 'workload-identity-token': signed.wit, authorization: `WPT ${signed.wpt}` }
      : { 'workload-identity-token': signed.wit, 'workload-proof-token': signed.wpt };
  };
}

/** The per-call metadata of a workload sending a bearer JWT-SVID. */
export function jwtSvidMetadataSource(options: JwtSvidGrpcClientOptions): CallMetadataSource {
  const audience = audienceFor(options);
  const token = options.token;
  if (!(typeof token === 'function' || (typeof token === 'string' && token.length > 0))) {
    throw new TypeError('token must be a JWT-SVID or a provider of one');
  }
  return async (path) => {
    parseGrpcMethodPath(path);
    const value = typeof token === 'string' ? token : await token({ path, audience: audience(path) });
    if (typeof value !== 'string' || value.length === 0 || /\s/.test(value)) {
      throw new TypeError('the JWT-SVID provider returned no usable token');
    }
    return { authorization: `Bearer ${value}` };
  };
}
