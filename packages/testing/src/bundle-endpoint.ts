import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** What a bundle endpoint serves: a test trust domain, or a function returning the document. */
export type BundleProvider = { readonly bundle: object } | (() => object | string | Promise<object | string>);

/**
 * A misbehaviour to inject, for testing how a client copes with a broken trust endpoint:
 * - `hang`: accept the request and never answer;
 * - `hang-mid-body`: send the headers and part of the body, then stall;
 * - `reset`: destroy the connection without an answer;
 * - `garbage`: answer 200 with a body that is not JSON;
 * - `too-many-keys`: answer 200 with a well-formed bundle of 10,000 keys (about 1.7 MB);
 * - `{ status }`: answer with that HTTP status and no document.
 */
export type EndpointFault =
  | 'hang'
  | 'hang-mid-body'
  | 'reset'
  | 'garbage'
  | 'too-many-keys'
  | { status: number };

/** Options of {@link serveBundleEndpoint}. */
export interface BundleEndpointOptions {
  /** Port; default 0 (an ephemeral port). */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Serve HTTPS with this certificate and key (PEM). Default: plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** `Cache-Control` of every answer. Default `no-store`. */
  cacheControl?: string;
  /**
   * Send an `ETag` (a hash of the document) and answer `304 Not Modified` to a matching
   * `If-None-Match`. Default true.
   */
  etag?: boolean;
}

/** A running bundle endpoint. */
export interface BundleEndpoint {
  /** Where the bundle is served, e.g. `http://127.0.0.1:43121/bundle`. Any path works. */
  readonly url: string;
  readonly port: number;
  /** How many bundle requests were received (including faulted and 304 ones). */
  readonly requests: number;
  /** How many of them were answered `304 Not Modified`. */
  readonly notModified: number;
  /** Makes every following request misbehave; `undefined` restores normal answers. */
  setFault(fault: EndpointFault | undefined): void;
  /** Stops the server and closes open connections, hung ones included. */
  close(): Promise<void>;
}

async function documentOf(provider: BundleProvider): Promise<string> {
  const value = typeof provider === 'function' ? await provider() : provider.bundle;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

let manyKeysDocument: string | undefined;
/** 10,000 distinct `kid`s over one real P-256 public key: parses fine, only its size is hostile. */
function tooManyKeysDocument(): string {
  if (manyKeysDocument === undefined) {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicKey.export({ format: 'jwk' });
    manyKeysDocument = JSON.stringify({
      keys: Array.from({ length: 10_000 }, (_, index) => ({ ...jwk, kid: `key-${index}`, use: 'jwt-svid' })),
    });
  }
  return manyKeysDocument;
}

/**
 * Answers `request` with `fault`. The hanging faults leave the response open; the server's
 * `close()` destroys those connections.
 */
export function answerWithFault(
  fault: EndpointFault,
  request: IncomingMessage,
  response: ServerResponse,
): void {
  if (typeof fault === 'object') {
    response.writeHead(fault.status, { 'content-type': 'text/plain' }).end('injected failure');
    return;
  }
  switch (fault) {
    case 'hang':
      return;
    case 'hang-mid-body':
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      response.write('{"keys": [');
      return;
    case 'reset':
      request.socket.destroy();
      return;
    case 'garbage':
      response.writeHead(200, { 'content-type': 'application/json' }).end('<html>upstream error</html>');
      return;
    case 'too-many-keys': {
      const body = tooManyKeysDocument();
      response
        .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
        .end(body);
      return;
    }
  }
}

/** A strong validator for a document: a hash of its bytes. */
export function etagOf(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url')}"`;
}

/** Whether an `If-None-Match` header lists `etag` (or `*`). */
export function matchesEtag(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (typeof ifNoneMatch !== 'string') return false;
  return ifNoneMatch
    .split(',')
    .map((value) => value.trim().replace(/^W\//, ''))
    .some((value) => value === etag || value === '*');
}

/**
 * Listens on `host:port` (HTTPS when `tls` is given) and resolves to the server, its port
 * and its base URL (`http(s)://host:port`). Shared with the OIDC discovery test server.
 */
export async function listen(
  handler: RequestListener,
  options: { port?: number; host?: string; tls?: { cert: string | Buffer; key: string | Buffer } },
): Promise<{ server: Server; port: number; origin: string }> {
  const host = options.host ?? '127.0.0.1';
  const server: Server =
    options.tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return { server, port, origin: `${options.tls === undefined ? 'http' : 'https'}://${hostPart}:${port}` };
}

/** Stops `server`, destroying open connections (hung requests included). */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    server.closeAllConnections();
  });
}

/**
 * Serves a SPIFFE bundle the way an `https_web` bundle endpoint does: `GET` (or `HEAD`) on any
 * path returns the current bundle document as `application/json`, with an `ETag` (a matching
 * `If-None-Match` gets `304`). Reads the provider per request, so a rotation shows up on the
 * next fetch. {@link BundleEndpoint.setFault} makes it misbehave on purpose.
 */
export async function serveBundleEndpoint(
  provider: BundleProvider,
  options: BundleEndpointOptions = {},
): Promise<BundleEndpoint> {
  const cacheControl = options.cacheControl ?? 'no-store';
  const useEtag = options.etag ?? true;
  let requests = 0;
  let notModified = 0;
  let fault: EndpointFault | undefined;
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    requests += 1;
    if (fault !== undefined) {
      answerWithFault(fault, request, response);
      return;
    }
    documentOf(provider).then(
      (body) => {
        const headers: Record<string, string | number> = {
          'content-type': 'application/json',
          'cache-control': cacheControl,
        };
        if (useEtag) {
          const etag = etagOf(body);
          headers.etag = etag;
          if (matchesEtag(request.headers['if-none-match'], etag)) {
            notModified += 1;
            response.writeHead(304, headers).end();
            return;
          }
        }
        headers['content-length'] = Buffer.byteLength(body);
        response.writeHead(200, headers);
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('bundle unavailable');
      },
    );
  };
  const { server, port, origin } = await listen(handler, options);
  return {
    url: `${origin}/bundle`,
    port,
    get requests() {
      return requests;
    },
    get notModified() {
      return notModified;
    },
    setFault(next) {
      fault = next;
    },
    close: () => closeServer(server),
  };
}
