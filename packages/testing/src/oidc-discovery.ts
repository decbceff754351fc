import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  answerWithFault,
  closeServer,
  type EndpointFault,
  etagOf,
  listen,
  matchesEtag,
} from './bundle-endpoint.js';

/** What the issuer publishes at `jwks_uri`: a test trust domain's keys, or a function returning a JWK Set. */
export type JwksProvider = { readonly jwks: object } | (() => object | string | Promise<object | string>);

/** Options of {@link serveOidcDiscovery}. */
export interface OidcDiscoveryOptions {
  /** Port; default 0 (an ephemeral port). */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** Serve HTTPS with this certificate and key (PEM). Default: plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Path of the issuer under the origin, e.g. `/tenant-a`. Default: none (issuer = origin). */
  issuerPath?: string;
  /** `Cache-Control` of the JWK Set. Default `max-age=300`. */
  cacheControl?: string;
}

/** A running OIDC issuer (discovery and JWK Set only). */
export interface OidcDiscoveryServer {
  /** The issuer, e.g. `http://127.0.0.1:43121` — configure the verifier with it. */
  readonly issuer: string;
  /** `<issuer>/.well-known/openid-configuration`. */
  readonly discoveryUrl: string;
  /** The `jwks_uri` the discovery document names. */
  readonly jwksUri: string;
  /** Requests received so far, per document. */
  readonly requests: { readonly discovery: number; readonly jwks: number };
  /**
   * Makes every following request for one document misbehave (`undefined` restores it);
   * see {@link EndpointFault}.
   */
  setFault(document: 'discovery' | 'jwks', fault: EndpointFault | undefined): void;
  /**
   * Overrides members of the discovery document, e.g. `{ issuer: 'https://elsewhere' }` to
   * test issuer validation, or `{ jwks_uri: ... }` to move the keys. `undefined` restores it.
   */
  setDiscoveryOverrides(overrides: Record<string, unknown> | undefined): void;
  /** Stops the server and closes open connections, hung ones included. */
  close(): Promise<void>;
}

async function jwksOf(provider: JwksProvider): Promise<string> {
  const value = typeof provider === 'function' ? await provider() : provider.jwks;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  response
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      ...headers,
    })
    .end(body);
}

/**
 * An OpenID Connect issuer for tests, shaped like a SPIRE OIDC Discovery Provider: the
 * discovery document at `<issuer>/.well-known/openid-configuration` names `jwks_uri`
 * (`<issuer>/keys`), which serves the provider's JWK Set per request (so rotations show up),
 * with an `ETag` and `Cache-Control`. Faults can be injected per document.
 */
export async function serveOidcDiscovery(
  provider: JwksProvider,
  options: OidcDiscoveryOptions = {},
): Promise<OidcDiscoveryServer> {
  const issuerPath = (options.issuerPath ?? '').replace(/\/$/, '');
  if (issuerPath !== '' && !issuerPath.startsWith('/')) throw new TypeError('issuerPath must start with "/"');
  const discoveryPath = `${issuerPath}/.well-known/openid-configuration`;
  const jwksPath = `${issuerPath}/keys`;
  const cacheControl = options.cacheControl ?? 'max-age=300';
  const requests = { discovery: 0, jwks: 0 };
  const faults: { discovery: EndpointFault | undefined; jwks: EndpointFault | undefined } = {
    discovery: undefined,
    jwks: undefined,
  };
  let overrides: Record<string, unknown> | undefined;
  let issuer = '';

  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === discoveryPath) {
      requests.discovery += 1;
      if (faults.discovery !== undefined) {
        answerWithFault(faults.discovery, request, response);
        return;
      }
      const document = {
        issuer,
        jwks_uri: `${issuer}/keys`,
        authorization_endpoint: '',
        response_types_supported: ['id_token'],
        subject_types_supported: [],
        id_token_signing_alg_values_supported: ['RS256', 'ES256', 'ES384'],
        ...overrides,
      };
      sendJson(response, 200, JSON.stringify(document), {});
      return;
    }
    if (path === jwksPath) {
      requests.jwks += 1;
      if (faults.jwks !== undefined) {
        answerWithFault(faults.jwks, request, response);
        return;
      }
      jwksOf(provider).then(
        (body) => {
          const etag = etagOf(body);
          if (matchesEtag(request.headers['if-none-match'], etag)) {
            response.writeHead(304, { etag, 'cache-control': cacheControl }).end();
            return;
          }
          sendJson(response, 200, body, { etag, 'cache-control': cacheControl });
        },
        () => {
          response.writeHead(500, { 'content-type': 'text/plain' }).end('keys unavailable');
        },
      );
      return;
    }
    response.writeHead(404).end();
  };

  const { server, origin } = await listen(handler, options);
  issuer = `${origin}${issuerPath}`;
  return {
    issuer,
    discoveryUrl: `${origin}${discoveryPath}`,
    jwksUri: `${origin}${jwksPath}`,
    get requests() {
      return { ...requests };
    },
    setFault(document, fault) {
      faults[document] = fault;
    },
    setDiscoveryOverrides(next) {
      overrides = next;
    },
    close: () => closeServer(server),
  };
}
