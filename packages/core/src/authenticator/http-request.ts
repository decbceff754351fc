/** A header value as Node (and most frameworks) represent it. */
export type HeaderValue = string | readonly string[] | undefined;

/**
 * Headers of an incoming request: either a plain object keyed by **lower-case** names
 * (Node's `req.headers`, or better `req.headersDistinct`, which keeps duplicate
 * `Authorization` fields that `req.headers` silently drops), or a Fetch `Headers`.
 */
export type RequestHeaders = Readonly<Record<string, HeaderValue>> | Headers;

/** The framework-neutral request the authenticator reads. */
export interface HttpRequestLike {
  /** HTTP method (informational; proofs are bound to the target URI, not the method). */
  method?: string | undefined;
  /** The request target as received: origin-form (`/a/b?x=1`) or absolute-form. */
  url?: string | undefined;
  /** Alternative to `url` when the framework exposes the path separately. */
  path?: string | undefined;
  headers: RequestHeaders;
}

function isFetchHeaders(headers: RequestHeaders): headers is Headers {
  return typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function';
}

/** Every field value of header `name` (lower-case), one entry per field line. */
export function headerValues(headers: RequestHeaders, name: string): readonly string[] {
  if (isFetchHeaders(headers)) {
    const value = headers.get(name);
    return value === null ? [] : [value];
  }
  const value = headers[name];
  if (value === undefined) return [];
  return typeof value === 'string' ? [value] : value;
}

/**
 * The path of the request target without query or fragment, as sent (never decoded or
 * normalised), or `undefined` when the target is not a path.
 */
export function requestPath(request: HttpRequestLike): string | undefined {
  let target = request.url ?? request.path;
  if (target === undefined || target.length === 0) return undefined;
  if (!target.startsWith('/')) {
    const schemeEnd = target.indexOf('://');
    if (schemeEnd <= 0) return undefined;
    const pathStart = target.indexOf('/', schemeEnd + 3);
    target = pathStart < 0 ? '/' : target.slice(pathStart);
  }
  let end = target.length;
  const query = target.indexOf('?');
  if (query >= 0) end = query;
  const fragment = target.indexOf('#');
  if (fragment >= 0 && fragment < end) end = fragment;
  return target.slice(0, end);
}
