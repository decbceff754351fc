// The shape of a hostile case: data, not code paths. Each case names one attack, builds the
// bytes to send from the kit, and states the one answer every adapter must give.
import type { Kit } from './kit.js';
import type { HeaderField, RawRequest } from './raw-http.js';

export type Route = '/orders' | '/optional' | '/admin';

export type Category = 'jose' | 'claims' | 'identifiers' | 'http' | 'binding' | 'trust' | 'authorization';

/** What the server must answer: a library error, or Node's HTTP parser refusing the message. */
export type Expectation =
  | { readonly status: 401 | 403 | 503; readonly code: string }
  | { readonly status: 400 | 431; readonly parser: true };

/**
 * What to send. `requests` go over one connection, pipelined (written at once); every
 * request but the last must be accepted (200) and the expectation applies to the last.
 */
export interface Exchange {
  readonly requests: readonly RawRequest[];
  /**
   * The requests race for one proof: signatures are verified off the event loop, so of
   * pipelined copies the first to finish verifying wins, not necessarily the first sent.
   * Exactly one must be accepted and every other must meet the expectation.
   */
  readonly race?: true;
}

export interface HostileCase {
  readonly id: string;
  readonly description: string;
  readonly category: Category;
  build(kit: Kit): Exchange;
  readonly expect: Expectation;
}

/** One request with `headers`, GET `route` unless told otherwise. */
export function single(headers: readonly HeaderField[], route: string = '/orders', method = 'GET'): Exchange {
  return { requests: [{ method, path: route, headers }] };
}

export const rejected = (code: string): Expectation => ({
  status: code === 'access_denied' ? 403 : code === 'trust_unavailable' ? 503 : 401,
  code,
});
