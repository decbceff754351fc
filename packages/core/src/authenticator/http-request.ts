/** A header value as Node (and most frameworks) represent it. */
export type HeaderValue = string | readonly string[] | undefined;

/**
 * Headers of an incoming request: Node's `req.rawHeaders` (`[name, value, name, value, …]`,
 * every field line as received; see {@link nodeRequestHeaders}), a plain object keyed by
 * **lower-case** names (`req.headersDistinct`, or `req.headers`, which silently drops a
 * duplicate `Authorization` field), or a Fetch `Headers`.
 */
export type RequestHeaders = readonly string[] | Readonly<Record<string, HeaderValue>> | Headers;

/** The header views of a Node `IncomingMessage` (or a framework request that mirrors them). */
export interface NodeHeaderViews {
  readonly rawHeaders?: readonly string[] | undefined;
  readonly headersDistinct?: Readonly<Record<string, readonly string[] | undefined>> | undefined;
  readonly headers?: Readonly<Record<string, HeaderValue>> | undefined;
}

/**
 * The headers of a Node request for {@link HttpRequestLike}: `rawHeaders` when present (the
 * field lines as received, so a repeated credential header is seen and refused, at no cost
 * per request), else `headersDistinct`, else `headers`. Each candidate is tried in that
 * order for every view, for framework stand-ins that expose Node's request only underneath.
 */
export function nodeRequestHeaders(...candidates: readonly (NodeHeaderViews | undefined)[]): RequestHeaders {
  for (const candidate of candidates) {
    if (Array.isArray(candidate?.rawHeaders)) return candidate.rawHeaders;
  }
  for (const candidate of candidates) {
    if (candidate?.headersDistinct !== undefined) return candidate.headersDistinct;
  }
  return candidates[0]?.headers ?? {};
}

/** Values of the field lines named `name` (lower-case), from Node's `rawHeaders` layout. */
function fieldLineValues(lines: readonly string[], name: string): readonly string[] {
  let values: string[] | undefined;
  for (let index = 0; index + 1 < lines.length; index += 2) {
    const field = lines[index] as string;
    // Lower-casing only the names of the right length keeps this a few comparisons.
    if (field.length === name.length && field.toLowerCase() === name) {
      if (values === undefined) values = [];
      values.push(lines[index + 1] as string);
    }
  }
  return values ?? NO_VALUES;
}

const NO_VALUES: readonly string[] = Object.freeze([]);

/** The framework-neutral request the authenticator reads. */
export interface HttpRequestLike {
  /** HTTP method (informational; proofs are bound to the target URI, not the method). */
  method?: string | undefined;
  /** The request target as received: origin-form (`/a/b?x=1`) or absolute-form. */
  url?: string | undefined;
  /** Alternative to `url` when the framework exposes the path separately. */
  path?: string | undefined;
  headers: RequestHeaders;
  /**
   * The transport connection the request arrived on (Node: `req.socket`), when known. Only
   * its identity is used: a keep-alive connection repeating its last verified token is
   * recognised by a constant-time comparison with that token instead of hashing it again.
   */
  connection?: object | undefined;
}

function isFieldLines(headers: RequestHeaders): headers is readonly string[] {
  return Array.isArray(headers);
}

function isFetchHeaders(headers: Exclude<RequestHeaders, readonly string[]>): headers is Headers {
  return typeof (headers as Headers).get === 'function' && typeof (headers as Headers).has === 'function';
}

/** Every field value of header `name` (lower-case), one entry per field line. */
export function headerValues(headers: RequestHeaders, name: string): readonly string[] {
  if (isFieldLines(headers)) return fieldLineValues(headers, name);
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
