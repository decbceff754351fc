import { type SignerInput, signerOf } from './fetch.js';
import { type ProofAttachOptions, proofHeaders } from './headers.js';
import { resolveToken, type TokenSource } from './token-provider.js';

// Structural stand-ins for undici's types, so this package does not depend on undici: the
// interceptors are generic over undici's own `Dispatch` and return it unchanged in type.

/** Any undici `dispatch` function. */
// biome-ignore lint/suspicious/noExplicitAny: undici's DispatchOptions/DispatchHandler, structurally
export type AnyDispatch = (options: any, handler: any) => boolean;

/** An undici interceptor for `Dispatcher.compose` (undici 6.20+/7). */
export type DispatchInterceptor = <D extends AnyDispatch>(dispatch: D) => D;

interface DispatchOptionsLike {
  origin?: string | URL;
  path: string;
  method: string;
  headers?: unknown;
}

interface HandlerLike {
  onResponseError?(controller: unknown, error: Error): void;
  onError?(error: Error): void;
}

type HeaderMap = Record<string, string | string[]>;

/** undici headers (object, flat array, or iterable of pairs) as a lower-cased object. */
function normaliseHeaders(headers: unknown): HeaderMap {
  const out: HeaderMap = {};
  const add = (name: unknown, value: unknown): void => {
    if (value === undefined || value === null) return;
    const key = String(name).toLowerCase();
    const values = Array.isArray(value) ? value.map(String) : [String(value)];
    const existing = out[key];
    if (existing === undefined) out[key] = values.length === 1 ? values[0]! : values;
    else out[key] = [...(Array.isArray(existing) ? existing : [existing]), ...values];
  };
  if (headers === undefined || headers === null) return out;
  if (Array.isArray(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) add(headers[i], headers[i + 1]);
  } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const pair of headers as Iterable<[unknown, unknown]>) add(pair[0], pair[1]);
  } else if (typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers)) add(name, value);
  }
  return out;
}

function reader(headers: HeaderMap): (name: string) => string | undefined {
  return (name) => {
    const value = headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

function fail(handler: HandlerLike, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  if (typeof handler.onResponseError === 'function') handler.onResponseError(null, err);
  else handler.onError?.(err);
}

/** Runs `prepare` before dispatching; failures reach the handler like transport errors. */
function asyncInterceptor(
  prepare: (options: DispatchOptionsLike, headers: HeaderMap) => Promise<Record<string, string>>,
): DispatchInterceptor {
  return (<D extends AnyDispatch>(dispatch: D): D =>
    ((options: DispatchOptionsLike, handler: HandlerLike): boolean => {
      const headers = normaliseHeaders(options.headers);
      prepare(options, headers).then(
        (added) => {
          try {
            dispatch({ ...options, headers: { ...headers, ...added } }, handler);
          } catch (error) {
            fail(handler, error);
          }
        },
        (error: unknown) => fail(handler, error),
      );
      return true;
    }) as D) as DispatchInterceptor;
}

/** Options of {@link wimseInterceptor}. */
export type WimseInterceptorOptions = SignerInput & ProofAttachOptions;

/**
 * The undici counterpart of `wimseFetch`: `agent.compose(wimseInterceptor({ wit, privateKey }))`
 * attaches the WIT and a fresh proof to every request dispatched through it.
 */
export function wimseInterceptor(options: WimseInterceptorOptions): DispatchInterceptor {
  const signer = signerOf(options);
  return asyncInterceptor(async (dispatchOptions, headers) => {
    if (dispatchOptions.origin === undefined) throw new TypeError('undici request has no origin');
    const url = new URL(dispatchOptions.path, dispatchOptions.origin);
    const { headers: added } = await proofHeaders(
      signer,
      options,
      dispatchOptions.method,
      url,
      reader(headers),
    );
    return added;
  });
}

/** The undici counterpart of `jwtSvidFetch`: adds `Authorization: Bearer <JWT-SVID>`. */
export function jwtSvidInterceptor(options: { token: TokenSource }): DispatchInterceptor {
  return asyncInterceptor(async (_dispatchOptions, headers) => {
    if (headers.authorization !== undefined)
      throw new TypeError('the request already has an Authorization header');
    return { authorization: `Bearer ${await resolveToken(options.token, 'token')}` };
  });
}
