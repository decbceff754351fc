import { type ProofAttachOptions, proofHeaders } from './headers.js';
import { createWptSigner, type WptSigner, type WptSignerOptions } from './signer.js';
import { resolveToken, type TokenSource } from './token-provider.js';

/** The fetch function signature (the global `fetch`). */
export type FetchFunction = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** Either signer options or a ready signer. */
export type SignerInput = WptSignerOptions | { signer: WptSigner };

/** Options of {@link wimseFetch}. */
export type WimseFetchOptions = SignerInput &
  ProofAttachOptions & {
    /** The fetch to wrap. Default: the global `fetch`, looked up per call. */
    fetch?: FetchFunction;
  };

/** Builds the signer from {@link SignerInput}. */
export function signerOf(options: SignerInput): WptSigner {
  return 'signer' in options ? options.signer : createWptSigner(options);
}

function baseFetch(fetchOption: FetchFunction | undefined): FetchFunction {
  return fetchOption ?? ((input, init) => globalThis.fetch(input, init));
}

/**
 * A fetch that sends every request with the workload's WIT and a fresh proof for that request
 * (`Authorization: WPT <wpt>` by default; `transport: 'wpt-header'` sends `Workload-Proof-Token`
 * and binds an `Authorization: Bearer` access token already on the request with `ath`). A
 * `Txn-Token` header on the request is bound with `tth`, `bindHeaders` with `oth`.
 *
 * Redirects are followed by fetch with the same headers; the proof's `aud` names the original
 * target, so a redirected request fails verification at the new target — use `redirect: 'manual'`
 * where redirects are expected.
 */
export function wimseFetch(options: WimseFetchOptions): FetchFunction {
  const signer = signerOf(options);
  const send = baseFetch(options.fetch);
  return async (input, init) => {
    const request = new Request(input, init);
    const { headers } = await proofHeaders(
      signer,
      options,
      request.method,
      new URL(request.url),
      (name) => request.headers.get(name) ?? undefined,
    );
    for (const [name, value] of Object.entries(headers)) request.headers.set(name, value);
    return send(request);
  };
}

/** Options of {@link jwtSvidFetch}. */
export interface JwtSvidFetchOptions {
  /** The JWT-SVID, or a provider of the current one (for example a Workload API client or a file). */
  token: TokenSource;
  fetch?: FetchFunction;
}

/** A fetch that sends every request with `Authorization: Bearer <JWT-SVID>`. */
export function jwtSvidFetch(options: JwtSvidFetchOptions): FetchFunction {
  const send = baseFetch(options.fetch);
  return async (input, init) => {
    const request = new Request(input, init);
    if (request.headers.has('authorization')) {
      throw new TypeError('the request already has an Authorization header');
    }
    request.headers.set('authorization', `Bearer ${await resolveToken(options.token, 'token')}`);
    return send(request);
  };
}
