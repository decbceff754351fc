import type { CredentialKind } from '../errors/errors.js';
import { audienceMatches, normaliseAudience } from '../verify/audience.js';
import { type HttpRequestLike, headerValues, requestPath } from './http-request.js';

/**
 * Where acceptable audiences come from (profile decision 4). At least one of `origins`,
 * `values` or `resolve` is required; an empty configuration is a startup error.
 */
export interface AudienceOptions {
  /**
   * This service's external origins (`https://billing.internal`, scheme + host + optional
   * port). For each, `origin + request path` (query removed) is an acceptable proof
   * audience; a JWT-SVID may also name the bare origin.
   */
  origins?: readonly string[];
  /** Exact audience strings accepted as they are (for example this service's SPIFFE ID). */
  values?: readonly string[];
  /** Computes further acceptable audiences per request. */
  resolve?: (request: HttpRequestLike) => string | readonly string[] | undefined;
  /**
   * Also accept the origin a trusted reverse proxy reports in `X-Forwarded-Proto` and
   * `X-Forwarded-Host` (falling back to `Host`). Only safe when every request reaches this
   * service through a proxy that overwrites those headers; otherwise a caller can make a
   * proof minted for another service look addressed to this one. Default false.
   */
  trustProxyHeaders?: boolean;
}

function normaliseOrigin(origin: string): string {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    throw new TypeError(`audience origin ${JSON.stringify(origin)} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError(`audience origin ${JSON.stringify(origin)} must use http or https`);
  }
  if (
    url.username !== '' ||
    url.password !== '' ||
    url.search !== '' ||
    url.hash !== '' ||
    url.pathname !== '/'
  ) {
    throw new TypeError(`audience origin ${JSON.stringify(origin)} must be scheme://host[:port] only`);
  }
  return `${url.protocol}//${url.host}`;
}

function firstForwardedValue(request: HttpRequestLike, name: string): string | undefined {
  const value = headerValues(request.headers, name)[0];
  if (value === undefined) return undefined;
  const first = value.split(',', 1)[0]?.trim();
  return first === undefined || first.length === 0 ? undefined : first;
}

/** Computes, per request, the audiences a credential may name. */
export class AudiencePolicy {
  readonly #origins: readonly string[];
  // The bare origins and the values in their normalised form, so that a matching audience is
  // found by plain string comparison (see audienceMatches).
  readonly #bareOrigins: readonly string[];
  readonly #values: readonly string[];
  readonly #resolve: AudienceOptions['resolve'];
  readonly #trustProxyHeaders: boolean;

  constructor(options: AudienceOptions | undefined) {
    if (options === undefined || typeof options !== 'object') {
      throw new TypeError('audience configuration is required (origins, values or resolve)');
    }
    this.#origins = (options.origins ?? []).map(normaliseOrigin);
    this.#bareOrigins = this.#origins.map(normaliseAudience);
    const values = [...(options.values ?? [])];
    for (const value of values) {
      if (typeof value !== 'string' || value.length === 0)
        throw new TypeError('audience values must be non-empty');
    }
    this.#values = values.map(normaliseAudience);
    if (options.resolve !== undefined && typeof options.resolve !== 'function') {
      throw new TypeError('audience.resolve must be a function');
    }
    this.#resolve = options.resolve;
    this.#trustProxyHeaders = options.trustProxyHeaders === true;
    if (this.#origins.length === 0 && this.#values.length === 0 && this.#resolve === undefined) {
      throw new TypeError('audience configuration is empty: set origins, values or resolve');
    }
  }

  /**
   * Whether a JWT-SVID with these (normalised) audiences is acceptable whatever the request:
   * it names a configured origin or value. Such a token's audience need not be checked per request.
   */
  acceptsJwtSvidForAnyRequest(tokenAudiences: ReadonlySet<string>): boolean {
    return (
      audienceMatches(tokenAudiences, this.#bareOrigins) || audienceMatches(tokenAudiences, this.#values)
    );
  }

  /** Audiences acceptable for `request` when it presents a credential of `kind`. */
  acceptable(request: HttpRequestLike, kind: CredentialKind): string[] {
    const path = requestPath(request);
    // Matching stops at the first hit, so the request-independent bare origins (which
    // JWT-SVIDs usually name) come before the origin + path strings built for this request.
    const result: string[] = kind === 'jwt-svid' ? [...this.#bareOrigins] : [];
    if (path !== undefined) for (const origin of this.#origins) result.push(origin + path);
    if (this.#trustProxyHeaders) {
      const host = firstForwardedValue(request, 'x-forwarded-host') ?? firstForwardedValue(request, 'host');
      const proto = firstForwardedValue(request, 'x-forwarded-proto') ?? 'https';
      if (host !== undefined) {
        const origin = `${proto.toLowerCase()}://${host.toLowerCase()}`;
        if (path !== undefined) result.push(origin + path);
        if (kind === 'jwt-svid') result.push(origin);
      }
    }
    for (const value of this.#values) result.push(value);
    const resolved = this.#resolve?.(request);
    if (typeof resolved === 'string') result.push(resolved);
    else if (resolved !== undefined) result.push(...resolved);
    return result;
  }
}
