// Real trust endpoints on 127.0.0.1 for the remote bundle source tests: an HTTPS server
// with a certificate made for the run, whose answers each test programs per path.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { JWK } from 'jose';
import { Agent, fetch as undiciFetch } from 'undici';
import { selfSignedCertificate } from '../../../../test/support/tls.js';
import { generateTestKey, signToken, type TestKey } from '../../../../test/support/tokens.js';
import type { FetchFunction } from '../../src/index.js';

export interface TlsMaterial {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** A self-signed certificate for 127.0.0.1, made with openssl for this run. */
export async function makeTlsMaterial(): Promise<TlsMaterial> {
  return selfSignedCertificate();
}

/** The transport options that make the sources trust the run's certificate (undici + a CA). */
export function trustingTransport(tls: TlsMaterial): { fetch: FetchFunction; dispatcher: Agent } {
  return {
    fetch: undiciFetch as unknown as FetchFunction,
    dispatcher: new Agent({ connect: { ca: tls.cert }, keepAliveTimeout: 1000 }),
  };
}

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export interface TrustServer {
  /** `https://127.0.0.1:<port>` (or `http://` without TLS). */
  readonly origin: string;
  /** Sets what a path answers. */
  route(path: string, handler: Handler): void;
  /** Requests received per path. */
  count(path: string): number;
  /** The `If-None-Match` of the last request to a path. */
  lastIfNoneMatch(path: string): string | undefined;
  close(): Promise<void>;
}

/** Starts a server whose paths answer 404 until routed. */
export async function startTrustServer(tls?: TlsMaterial): Promise<TrustServer> {
  const handlers = new Map<string, Handler>();
  const counts = new Map<string, number>();
  const validators = new Map<string, string | undefined>();
  const sockets = new Set<Socket>();
  const handler = (request: IncomingMessage, response: ServerResponse): void => {
    const requestPath = new URL(request.url ?? '/', 'http://localhost').pathname;
    counts.set(requestPath, (counts.get(requestPath) ?? 0) + 1);
    const ifNoneMatch = request.headers['if-none-match'];
    validators.set(requestPath, typeof ifNoneMatch === 'string' ? ifNoneMatch : undefined);
    const routed = handlers.get(requestPath);
    if (routed === undefined) response.writeHead(404).end();
    else routed(request, response);
  };
  const server: Server =
    tls === undefined
      ? createHttpServer(handler)
      : createHttpsServer({ cert: tls.cert, key: tls.key }, handler);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    route: (routePath, routeHandler) => handlers.set(routePath, routeHandler),
    count: (routePath) => counts.get(routePath) ?? 0,
    lastIfNoneMatch: (routePath) => validators.get(routePath),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Answers with a JSON document and optional headers. */
export function json(document: unknown, headers: Record<string, string> = {}): Handler {
  const body = typeof document === 'string' ? document : JSON.stringify(document);
  return (_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json', ...headers }).end(body);
  };
}

/** Answers like a cache-aware endpoint: the document with an ETag, 304 when the client has it. */
export function withEtag(document: () => unknown, headers: Record<string, string> = {}): Handler {
  return (request, response) => {
    const body = JSON.stringify(document());
    const etag = `"${Buffer.from(body).toString('base64url').slice(-16)}"`;
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag, ...headers }).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', etag, ...headers }).end(body);
  };
}

/** A signing key of a test trust domain. */
export interface SigningKey {
  readonly kid: string;
  readonly key: TestKey;
}

export function signingKey(kid: string): SigningKey {
  return { kid, key: generateTestKey('ES256') };
}

/** A SPIFFE bundle document with the keys as `jwt-svid` keys. */
export function spiffeBundle(keys: readonly SigningKey[], extra: Record<string, unknown> = {}): object {
  return {
    keys: keys.map(({ kid, key }) => ({ ...(key.publicJwk as JWK), kid, use: 'jwt-svid' })),
    ...extra,
  };
}

/** A plain JWK Set (as an OIDC `jwks_uri` serves it). */
export function jwks(keys: readonly SigningKey[]): object {
  return { keys: keys.map(({ kid, key }) => ({ ...(key.publicJwk as JWK), kid, alg: 'ES256' })) };
}

/** Fixed clock for the tokens: 2027-01-15T08:00:00Z. */
export const TOKEN_NOW = 1_800_000_000;
export const AUDIENCE = 'spiffe://example.org/api';

/** A JWT-SVID for `sub` signed by `signer`, naming `kid` (which may be made up). */
export function jwtSvid(signer: SigningKey, sub: string, kid = signer.kid): string {
  return signToken(
    { alg: 'ES256', kid, typ: 'JWT' },
    { sub, aud: [AUDIENCE], exp: TOKEN_NOW + 600, iat: TOKEN_NOW - 10 },
    signer.key.privateKey,
  );
}

/** A request carrying a JWT-SVID. */
export function bearer(token: string): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${token}` } };
}

/** A clock the test moves by hand (ms since the epoch). */
export class ManualClock {
  #now = Date.UTC(2027, 0, 15, 8);
  readonly now = (): number => this.#now;
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** Waits until `condition` holds, polling; fails after `timeoutMs` (tests never hang). */
export async function eventually(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
