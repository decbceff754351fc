import type { AudienceOptions } from '../authenticator/audience-policy.js';
import { WorkloadIdentifier } from '../identifiers/workload-identifier.js';
import { type GrpcCallInfo, grpcCallOf, parseGrpcMethodPath } from './metadata-request.js';

/**
 * Which audiences a gRPC server accepts. At least one of `authorities`, `values`, `selfId`
 * or `resolve` is required.
 */
export interface GrpcAudienceOptions {
  /**
   * The authorities (`host` or `host:port`) clients address this service by: internal and
   * external names, the load balancer's name. For each, a proof must name
   * `https://<authority>/<package.Service>/<Method>`; a JWT-SVID may also name the bare
   * `https://<authority>`. Compared after URL normalisation (lower-case host, `:443` dropped).
   */
  authorities?: readonly string[];
  /** Exact audience strings, accepted for every method. */
  values?: readonly string[];
  /**
   * This server's own workload identifier (`spiffe://example.org/echo`), accepted for every
   * method: proofs then stop depending on the name the client dialled.
   */
  selfId?: string;
  /** More acceptable audiences per call. */
  resolve?: (call: GrpcCallInfo) => string | readonly string[] | undefined;
}

/**
 * `https://<authority>` with the URL rules the core's origin audiences use (lower-case host,
 * default port dropped), so a client and a server configured with the same authority agree.
 * @throws TypeError when `authority` is not a bare `host[:port]`
 */
export function grpcAuthorityOrigin(authority: string): string {
  if (typeof authority !== 'string' || authority.length === 0 || /[/?#@\s\\]/.test(authority)) {
    throw new TypeError(`gRPC authority ${JSON.stringify(authority)} must be host or host:port`);
  }
  let url: URL;
  try {
    url = new URL(`https://${authority}`);
  } catch {
    throw new TypeError(`gRPC authority ${JSON.stringify(authority)} must be host or host:port`);
  }
  return `https://${url.host}`;
}

/**
 * The audience a client names for a call: `https://<authority>/<package.Service>/<Method>`.
 * @throws TypeError for a malformed authority or method path
 */
export function grpcMethodAudience(authority: string, path: string): string {
  parseGrpcMethodPath(path);
  return grpcAuthorityOrigin(authority) + path;
}

/**
 * The core `audience` option for a gRPC server. Pass it as `createAuthenticator({ audience })`;
 * the authenticator then accepts `https://<authority>/<package.Service>/<Method>` for requests
 * built by `grpcRequest`. Validated now, so a typo fails at startup.
 * @throws TypeError on an empty or malformed configuration
 */
export function grpcAudience(options: GrpcAudienceOptions): AudienceOptions {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('gRPC audience options are required (authorities, values, selfId or resolve)');
  }
  const origins = (options.authorities ?? []).map(grpcAuthorityOrigin);
  const values = [...(options.values ?? [])];
  if (options.selfId !== undefined) values.push(WorkloadIdentifier.parse(options.selfId).toString());
  const resolveCall = options.resolve;
  if (resolveCall !== undefined && typeof resolveCall !== 'function') {
    throw new TypeError('gRPC audience resolve must be a function');
  }
  if (origins.length === 0 && values.length === 0 && resolveCall === undefined) {
    throw new TypeError('gRPC audience configuration is empty: set authorities, values, selfId or resolve');
  }
  const audience: AudienceOptions = { origins, values };
  if (resolveCall !== undefined) {
    // Only gRPC calls have a call to resolve for; any other request gets no extra audience.
    audience.resolve = (request) => {
      const call = grpcCallOf(request);
      return call === undefined ? undefined : resolveCall(call);
    };
  }
  return audience;
}
