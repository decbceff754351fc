// Shared test plumbing: a Koa server on an ephemeral 127.0.0.1 port, and a client that
// records every token it sends and checks that no response ever echoes one back.
import { once } from 'node:events';
import http, { type OutgoingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';

/** The external origin the services under test believe they are reached at. */
export const ORIGIN = 'https://orders.example.org';

export interface Running {
  readonly base: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function start(app: { listen(port: number, host: string): Server }): Promise<Running> {
  const server: Server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return serverInfo(server);
}

export function serverInfo(server: Server): Running {
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

export interface Reply {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
  json(): unknown;
  /** Every `WWW-Authenticate` field, one entry per challenge. */
  readonly challenges: readonly string[];
}

/** Pieces of a token worth searching for in a response: the whole JWS and each segment. */
function secretsOf(value: string): string[] {
  const token = value.replace(/^(WPT|Bearer|DPoP)\s+/i, '');
  return [token, ...token.split('.')].filter((piece) => piece.length >= 16);
}

/**
 * Sends a request with `http.request` (so header arrays become repeated fields) and asserts
 * that the response — status line aside — contains no token material that was sent.
 */
export async function send(
  base: string,
  path: string,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
  method = 'GET',
): Promise<Reply> {
  const secrets = Object.values(headers)
    .flatMap((value) => (typeof value === 'string' ? [value] : value))
    .flatMap(secretsOf);
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method, headers: headers as OutgoingHttpHeaders, agent: false },
      resolve,
    );
    req.on('error', reject);
    req.end();
  });
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const everything = `${JSON.stringify(response.rawHeaders)}\n${text}`;
  for (const secret of secrets) expect(everything, 'the response leaks token material').not.toContain(secret);
  const challenges = response.headersDistinct['www-authenticate'] ?? [];
  return {
    status: response.statusCode ?? 0,
    headers: response.headers,
    text,
    json: () => JSON.parse(text),
    challenges: challenges.flatMap((field) => field.split(/,\s*(?=(?:WPT|Bearer)\b)/)),
  };
}
