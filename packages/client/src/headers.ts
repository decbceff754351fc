import type { SignedWpt, WptRequest, WptSigner } from './signer.js';

export const WIT_HEADER = 'workload-identity-token';
export const WPT_HEADER = 'workload-proof-token';
export const TXN_TOKEN_HEADER = 'txn-token';

/** Where the proof travels: `Authorization: WPT` (newest drafts) or `Workload-Proof-Token` (wpt-01/-02). */
export type WptTransport = 'wpt-authorization' | 'wpt-header';

/** Reads the request's existing headers (case-insensitively). */
export type HeaderReader = (name: string) => string | undefined;

/** Options shared by the fetch wrapper and the undici interceptor. */
export interface ProofAttachOptions {
  /** Default `'wpt-authorization'`. */
  transport?: WptTransport;
  /** Header names whose values (when present in a request) the proof binds with `oth`. */
  bindHeaders?: readonly string[];
  /** Per-request `aud` override, from the request URL. Default: the URL without query and fragment. */
  audience?: (url: URL) => string;
  /** Proof lifetime in seconds (default: the signer's). */
  ttlSeconds?: number;
}

const BEARER = /^(?:bearer|dpop)[ \t]+(\S+)[ \t]*$/i;

/**
 * Signs the proof for a request and returns the headers to set. Throws before anything is
 * sent when the request already carries credentials the transport would clash with.
 */
export async function proofHeaders(
  signer: WptSigner,
  options: ProofAttachOptions,
  method: string,
  url: URL,
  read: HeaderReader,
): Promise<{ headers: Record<string, string>; signed: SignedWpt }> {
  const transport = options.transport ?? 'wpt-authorization';
  if (transport !== 'wpt-authorization' && transport !== 'wpt-header') {
    throw new TypeError(`unknown transport ${JSON.stringify(transport)}`);
  }
  if (read(WIT_HEADER) !== undefined || read(WPT_HEADER) !== undefined) {
    throw new TypeError('the request already carries Workload-Identity-Token or Workload-Proof-Token');
  }
  const request: WptRequest = { method, url };
  const authorization = read('authorization');
  if (authorization !== undefined) {
    const match = BEARER.exec(authorization);
    if (transport === 'wpt-authorization' || match === null) {
      throw new TypeError(
        transport === 'wpt-authorization'
          ? "the request already has an Authorization header; use transport 'wpt-header' to send an access token with the proof"
          : 'the Authorization header is not a single Bearer or DPoP token',
      );
    }
    request.accessToken = match[1]!;
  }
  const txn = read(TXN_TOKEN_HEADER);
  if (txn !== undefined) request.txnToken = txn;
  if (options.bindHeaders !== undefined) {
    const other: Record<string, string> = {};
    for (const name of options.bindHeaders) {
      const value = read(name);
      if (value !== undefined) other[name.toLowerCase()] = value;
    }
    request.otherTokens = other;
  }
  if (options.audience !== undefined) request.audience = options.audience(url);
  if (options.ttlSeconds !== undefined) request.ttlSeconds = options.ttlSeconds;
  const signed = await signer.sign(request);
  const headers: Record<string, string> = { [WIT_HEADER]: signed.wit };
  if (transport === 'wpt-authorization') headers.authorization = `WPT ${signed.wpt}`;
  else headers[WPT_HEADER] = signed.wpt;
  return { headers, signed };
}
