/**
 * Fetching trust documents (bundle endpoints, OIDC discovery documents, JWK Sets) over
 * HTTPS with hard limits: one deadline for the whole exchange, headers and body alike, and
 * a cap on the body size, so a slow, hanging or oversized endpoint costs bounded time and
 * memory.
 */

/** Why fetching or accepting a remote trust document failed. Stable and safe to log. */
export type RemoteTrustFailureReason =
  | 'timeout'
  | 'network_error'
  | 'http_status'
  | 'body_too_large'
  | 'invalid_document'
  | 'too_many_keys'
  | 'sequence_regressed'
  | 'insecure_url'
  | 'too_many_redirects'
  | 'issuer_mismatch'
  | 'invalid_jwks_uri';

/**
 * A remote trust document could not be fetched or was refused. The message names the
 * failure and, where useful, the HTTP status; never the document's content.
 */
export class RemoteTrustError extends Error {
  override readonly name = 'RemoteTrustError';
  /** Machine-readable reason. */
  readonly reason: RemoteTrustFailureReason;

  constructor(reason: RemoteTrustFailureReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}

/** The part of a fetch `Response` this library reads. */
export interface FetchResponseLike {
  readonly status: number;
  /** The URL this response answers (after redirects, for a fetch that follows them). */
  readonly url: string;
  readonly headers: { get(name: string): string | null };
  readonly body: {
    getReader(): {
      read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
      cancel(reason?: unknown): Promise<void>;
    };
  } | null;
}

/**
 * What this library passes to a fetch function. Redirects are followed by this library, one
 * hop at a time, so that every hop's URL is checked before it is requested.
 */
export interface FetchRequestInit {
  method: 'GET';
  headers: Record<string, string>;
  redirect: 'manual';
  signal: AbortSignal;
  /** Present only when a dispatcher was configured (undici `Agent`, `ProxyAgent`). */
  dispatcher?: unknown;
}

/**
 * A WHATWG `fetch`: the global one, or undici's `fetch` (pass that one together with an
 * undici `dispatcher` from the same undici version).
 */
export type FetchFunction = (url: string, init: FetchRequestInit) => Promise<FetchResponseLike>;

/** Transport options shared by the remote bundle sources. */
export interface RemoteFetchOptions {
  /** The fetch implementation. Default: the global `fetch`. */
  fetch?: FetchFunction;
  /**
   * Passed to `fetch` as `dispatcher`: an undici `Agent` with `connect: { ca }` for a
   * private CA, or a `ProxyAgent`. Use the `fetch` of the same undici package with it.
   */
  dispatcher?: unknown;
  /** Deadline for one request, connection to last body byte, in ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Largest response body accepted, in bytes. Default 1048576 (1 MiB). */
  maxBodyBytes?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Redirect hops followed for one request; browsers allow 20, trust endpoints need one or two. */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** A fetched document, or the server's word that the cached one is still current. */
export type FetchedDocument =
  | { readonly notModified: true; readonly maxAgeSeconds: number | undefined }
  | {
      readonly notModified: false;
      readonly text: string;
      readonly etag: string | undefined;
      readonly maxAgeSeconds: number | undefined;
    };

/** What a single request may look like. */
export interface DocumentRequest {
  readonly url: string;
  /** Sent as `If-None-Match`; a 304 answer then means "unchanged". */
  readonly etag?: string | undefined;
  readonly allowInsecureHttp: boolean;
  readonly accept: string;
  /** Cancels the request (the source was closed). */
  readonly signal?: AbortSignal | undefined;
}

/** Resolved transport settings. */
export interface ResolvedFetchSettings {
  readonly fetch: FetchFunction;
  readonly dispatcher: unknown;
  readonly requestTimeoutMs: number;
  readonly maxBodyBytes: number;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

/** Validates transport options once, at construction. */
export function resolveFetchSettings(options: RemoteFetchOptions): ResolvedFetchSettings {
  const fetchFunction = options.fetch ?? (globalThis.fetch as unknown as FetchFunction | undefined);
  if (typeof fetchFunction !== 'function') throw new TypeError('no fetch implementation is available');
  return {
    fetch: fetchFunction,
    dispatcher: options.dispatcher,
    requestTimeoutMs: positiveInteger(
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
      'requestTimeoutMs',
    ),
    maxBodyBytes: positiveInteger(options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 'maxBodyBytes'),
  };
}

/**
 * Parses and checks a trust document URL: `https:` (or `http:` when explicitly allowed,
 * for tests and local development), no userinfo, no fragment.
 * @throws TypeError
 */
export function parseTrustUrl(value: string | URL, allowInsecureHttp: boolean, what: string): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new TypeError(`${what} is not a valid URL`);
  }
  if (!isAcceptableScheme(url, allowInsecureHttp)) {
    throw new TypeError(
      `${what} must use https${allowInsecureHttp ? ' or http' : ' (plain http needs allowInsecureHttp)'}`,
    );
  }
  if (url.username !== '' || url.password !== '') throw new TypeError(`${what} must not contain userinfo`);
  if (url.hash !== '') throw new TypeError(`${what} must not contain a fragment`);
  return url;
}

function isAcceptableScheme(url: URL, allowInsecureHttp: boolean): boolean {
  return url.protocol === 'https:' || (allowInsecureHttp && url.protocol === 'http:');
}

/** `max-age` of a `Cache-Control` header, in seconds; `no-cache`/`no-store` count as 0. */
export function cacheMaxAgeSeconds(header: string | null): number | undefined {
  if (header === null) return undefined;
  let maxAge: number | undefined;
  for (const directive of header.split(',')) {
    const [rawName, rawValue] = directive.split('=', 2);
    const name = rawName?.trim().toLowerCase();
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name !== 'max-age' || rawValue === undefined) continue;
    const text = rawValue.trim().replace(/^"(.*)"$/, '$1');
    if (!/^\d{1,10}$/.test(text)) continue;
    maxAge = Number(text);
  }
  return maxAge;
}

function timeoutError(timeoutMs: number): RemoteTrustError {
  return new RemoteTrustError('timeout', `request did not complete within ${timeoutMs} ms`);
}

/**
 * One GET with a deadline covering the whole exchange and a cap on the body size.
 * Never leaves a rejection unhandled: every pending promise is settled or observed.
 * @throws RemoteTrustError
 */
export async function fetchDocument(
  settings: ResolvedFetchSettings,
  request: DocumentRequest,
): Promise<FetchedDocument> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let cancel: (() => void) | undefined;
  // Rejects at the deadline or when the caller cancels; raced against every step, so a
  // fetch implementation that ignores the abort signal still cannot hold a refresh open.
  const deadline = new Promise<never>((_, reject) => {
    const stop = (error: RemoteTrustError): void => {
      controller.abort(error);
      reject(error);
    };
    timer = setTimeout(() => stop(timeoutError(settings.requestTimeoutMs)), settings.requestTimeoutMs);
    timer.unref();
    cancel = () => stop(new RemoteTrustError('network_error', 'request cancelled'));
  });
  deadline.catch(() => {});
  if (request.signal?.aborted === true) cancel?.();
  else request.signal?.addEventListener('abort', cancel as () => void, { once: true });
  try {
    const headers: Record<string, string> = { accept: request.accept };
    if (request.etag !== undefined) headers['if-none-match'] = request.etag;
    const init: FetchRequestInit = { method: 'GET', headers, redirect: 'manual', signal: controller.signal };
    if (settings.dispatcher !== undefined) init.dispatcher = settings.dispatcher;
    let url = request.url;
    for (let hops = 0; ; hops += 1) {
      const response = await send(settings, url, init, controller, deadline);
      if (!REDIRECT_STATUSES.has(response.status)) {
        return await readResponse(response, request, settings, deadline);
      }
      await discardBody(response);
      if (hops === MAX_REDIRECTS) {
        throw new RemoteTrustError('too_many_redirects', `more than ${MAX_REDIRECTS} redirects`);
      }
      url = redirectTarget(response, url, request.allowInsecureHttp);
    }
  } finally {
    clearTimeout(timer);
    request.signal?.removeEventListener('abort', cancel as () => void);
    // Releases the connection of a response whose body was not (fully) read.
    controller.abort();
  }
}

async function send(
  settings: ResolvedFetchSettings,
  url: string,
  init: FetchRequestInit,
  controller: AbortController,
  deadline: Promise<never>,
): Promise<FetchResponseLike> {
  try {
    return await Promise.race([settings.fetch(url, init), deadline]);
  } catch (cause) {
    if (cause instanceof RemoteTrustError) throw cause;
    if (controller.signal.aborted) throw timeoutError(settings.requestTimeoutMs);
    throw new RemoteTrustError('network_error', 'request failed', { cause });
  }
}

/**
 * The next hop of a redirect, checked before it is requested: a trust document must not be
 * fetched, nor its conditional-request headers sent, over plain http or with credentials
 * in the URL, whatever an endpoint answers.
 */
function redirectTarget(response: FetchResponseLike, from: string, allowInsecureHttp: boolean): string {
  const location = response.headers.get('location');
  if (location === null) {
    throw new RemoteTrustError('http_status', `endpoint answered HTTP ${response.status} without a Location`);
  }
  let target: URL;
  try {
    target = new URL(location, from);
  } catch {
    throw new RemoteTrustError('insecure_url', 'a redirect named an invalid URL');
  }
  // Plain http only where allowed, and never as a step down from https.
  const downgrade = target.protocol !== 'https:' && new URL(from).protocol === 'https:';
  if (downgrade || !isAcceptableScheme(target, allowInsecureHttp)) {
    throw new RemoteTrustError('insecure_url', 'a redirect led to a URL that is not https');
  }
  if (target.username !== '' || target.password !== '') {
    throw new RemoteTrustError('insecure_url', 'a redirect led to a URL with credentials');
  }
  target.hash = '';
  return target.href;
}

async function readResponse(
  response: FetchResponseLike,
  request: DocumentRequest,
  settings: ResolvedFetchSettings,
  deadline: Promise<never>,
): Promise<FetchedDocument> {
  const maxAgeSeconds = cacheMaxAgeSeconds(response.headers.get('cache-control'));
  // For a custom fetch that follows redirects itself despite `redirect: 'manual'`.
  if (response.url !== '' && !isAcceptableScheme(new URL(response.url), request.allowInsecureHttp)) {
    throw new RemoteTrustError('insecure_url', 'a redirect led to a URL that is not https');
  }
  if (response.status === 304 && request.etag !== undefined) {
    await discardBody(response);
    return { notModified: true, maxAgeSeconds };
  }
  if (response.status !== 200) {
    await discardBody(response);
    throw new RemoteTrustError('http_status', `endpoint answered HTTP ${response.status}`);
  }
  const declaredLength = response.headers.get('content-length');
  if (declaredLength !== null && Number(declaredLength) > settings.maxBodyBytes) {
    await discardBody(response);
    throw bodyTooLarge(settings.maxBodyBytes);
  }
  const text = await readBody(response, settings, deadline);
  return { notModified: false, text, etag: response.headers.get('etag') ?? undefined, maxAgeSeconds };
}

function bodyTooLarge(maxBodyBytes: number): RemoteTrustError {
  return new RemoteTrustError('body_too_large', `response body is larger than ${maxBodyBytes} bytes`);
}

async function discardBody(response: FetchResponseLike): Promise<void> {
  try {
    await response.body?.getReader().cancel();
  } catch {
    // Nothing useful to do: the connection is released by the abort that follows.
  }
}

async function readBody(
  response: FetchResponseLike,
  settings: ResolvedFetchSettings,
  deadline: Promise<never>,
): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), deadline]);
      if (done) break;
      if (value === undefined) continue;
      size += value.byteLength;
      if (size > settings.maxBodyBytes) throw bodyTooLarge(settings.maxBodyBytes);
      chunks.push(value);
    }
  } catch (cause) {
    reader.cancel().catch(() => {});
    if (cause instanceof RemoteTrustError) throw cause;
    throw new RemoteTrustError('network_error', 'reading the response body failed', { cause });
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch (cause) {
    throw new RemoteTrustError('invalid_document', 'response body is not UTF-8', { cause });
  }
}
