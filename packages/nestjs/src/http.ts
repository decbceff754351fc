import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  type HttpRequestLike,
  type NodeHeaderViews,
  nodeRequestHeaders,
  type WorkloadPrincipal,
} from '@wimse-auth/core';

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
  /** Every header field line as received, so duplicate `Authorization` fields are not lost. */
  rawHeaders?: readonly string[] | undefined;
  /** Node 18.3+: every header field line, grouped by name. */
  headersDistinct?: IncomingMessage['headersDistinct'] | undefined;
  /** Fastify: Node's request. */
  raw?: Partial<Pick<IncomingMessage, 'url' | 'headersDistinct' | 'rawHeaders' | 'socket'>> | undefined;
  /** Node's connection (Express); Fastify has it on `raw`. */
  socket?: object | undefined;
  /** The authenticated workload, set by `WimseGuard` (or the `@wimse-auth/passport` strategy). */
  wimse?: WorkloadPrincipal | undefined;
  /** Set to the principal by `WimseGuard` when nothing else set it. */
  user?: unknown;
}

/** The framework-neutral request the core reads. */
export function coreRequest(req: WimseHttpRequest | HttpRequestLike): HttpRequestLike {
  const r = req as WimseHttpRequest;
  // Fastify's request exposes Node's header views only on `raw`.
  const headers = nodeRequestHeaders(r as NodeHeaderViews, r.raw);
  const url = r.originalUrl ?? r.raw?.url ?? r.url ?? (req as HttpRequestLike).path;
  const connection = r.socket ?? r.raw?.socket ?? (req as HttpRequestLike).connection;
  return { method: r.method, url, headers: headers as HttpRequestLike['headers'], connection };
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
