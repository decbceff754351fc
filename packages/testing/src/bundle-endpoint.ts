import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** What a bundle endpoint serves: a test trust domain, or a function returning the document. */
export type BundleProvider = { readonly bundle: object } | (() => object | string | Promise<object | string>);

/** Options of {@link serveBundleEndpoint}. */
export interface BundleEndpointOptions {
  /** Port; default 0 (an ephemeral port). */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Serve HTTPS with this certificate and key (PEM). Default: plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** A running bundle endpoint. */
export interface BundleEndpoint {
  /** Where the bundle is served, e.g. `http://127.0.0.1:43121/bundle`. Any path works. */
  readonly url: string;
  readonly port: number;
  /** How many bundle requests were answered. */
  readonly requests: number;
  /** Stops the server and closes open connections. */
  close(): Promise<void>;
}

async function documentOf(provider: BundleProvider): Promise<string> {
  const value = typeof provider === 'function' ? await provider() : provider.bundle;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * Serves a SPIFFE bundle the way an `https_web` bundle endpoint does: `GET` (or `HEAD`) on any
 * path returns the current bundle document as `application/json`. Reads the provider per request,
 * so a rotation shows up on the next fetch.
 */
export async function serveBundleEndpoint(
  provider: BundleProvider,
  options: BundleEndpointOptions = {},
): Promise<BundleEndpoint> {
  const host = options.host ?? '127.0.0.1';
  let requests = 0;
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    requests += 1;
    documentOf(provider).then(
      (body) => {
        response.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'cache-control': 'no-store',
        });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('bundle unavailable');
      },
    );
  };
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
  const url = `${options.tls === undefined ? 'http' : 'https'}://${hostPart}:${port}/bundle`;
  return {
    url,
    port,
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
