import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { HttpRequestLike, WorkloadPrincipal } from '@wimse-auth/core';

/**
 * The parts of a Nest HTTP request this package reads and writes: Express's `Request` or
 * Fastify's `FastifyRequest` (whose Node request is `raw`).
 */
export interface WimseHttpRequest {
  method?: string | undefined;
  url?: string | undefined;
  /** Express: the request target as received, before a router rewrote `url`. */
  originalUrl?: string | undefined;
  headers: IncomingHttpHeaders | HttpRequestLike['headers'];
  /** Node 18.3+: every header field line, so duplicate `Authorization` fields are not lost. */
  headersDistinct?: IncomingMessage['headersDistinct'] | undefined;
  /** Fastify: Node's request. */
  raw?: Partial<Pick<IncomingMessage, 'url' | 'headersDistinct'>> | undefined;
  /** The authenticated workload, set by `WimseGuard` (or the `@wimse-auth/passport` strategy). */
  wimse?: WorkloadPrincipal | undefined;
  /** Set to the principal by `WimseGuard` when nothing else set it. */
  user?: unknown;
}

/** The framework-neutral request the core reads. */
export function coreRequest(req: WimseHttpRequest | HttpRequestLike): HttpRequestLike {
  const r = req as WimseHttpRequest;
  // headersDistinct keeps every Authorization field line; `headers` joins or drops
  // duplicates, which would hide a request carrying two credentials.
  const headers = r.headersDistinct ?? r.raw?.headersDistinct ?? r.headers;
  const url = r.originalUrl ?? r.raw?.url ?? r.url ?? (req as HttpRequestLike).path;
  return { method: r.method, url, headers: headers as HttpRequestLike['headers'] };
}

/** What Express's `Response`/Node's `ServerResponse` and Fastify's `FastifyReply` offer. */
interface HeaderTarget {
  setHeader?: (name: string, value: string | readonly string[]) => unknown;
  header?: (name: string, value: unknown) => unknown;
  raw?: unknown;
}

/** Sets response headers on an Express/Node response or a Fastify reply. */
export function setResponseHeaders(
  response: unknown,
  headers: Readonly<Record<string, string | readonly string[]>>,
): void {
  if (response === null || typeof response !== 'object') return;
  const target = response as HeaderTarget;
  for (const [name, value] of Object.entries(headers)) {
    if (target.raw !== undefined && typeof target.header === 'function') {
      target.header(name, value); // Fastify reply
    } else if (typeof target.setHeader === 'function') {
      target.setHeader(name, value); // Express / Node
    }
  }
}
