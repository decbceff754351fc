// Node's rawHeaders as the request headers: what the adapters hand the core. Every field line
// as received, so a repeated credential header is refused exactly as with headersDistinct.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { type HttpRequestLike, isWimseError, nodeRequestHeaders } from '../src/index.js';
import { CALLER, createWorld } from './support/world.js';

/** The request a client sends, as Node's server sees it. */
async function received(lines: readonly string[]): Promise<http.IncomingMessage> {
  const server = http.createServer();
  const arrived = new Promise<http.IncomingMessage>((resolve) => {
    server.once('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      resolve(request);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    // Raw header lines go out as given: Node adds no Host line to them.
    const headers: string[] = ['Host', `127.0.0.1:${port}`];
    for (let index = 0; index < lines.length; index += 2)
      headers.push(lines[index] as string, lines[index + 1] as string);
    const request = http.request({ host: '127.0.0.1', port, path: '/orders', headers, agent: false });
    const answered = new Promise<void>((resolve, reject) => {
      request.once('response', (response) => response.resume().on('end', resolve));
      request.once('error', reject);
    });
    request.end();
    const incoming = await arrived;
    await answered;
    return incoming;
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

async function outcome(request: HttpRequestLike): Promise<string> {
  const authenticator = world.authenticator();
  try {
    return (await authenticator.authenticate(request)).id;
  } catch (error) {
    if (isWimseError(error)) return error.code;
    throw error;
  }
}

const world = createWorld();

describe('nodeRequestHeaders', () => {
  it('prefers rawHeaders, then headersDistinct, then headers, looking under every candidate', () => {
    const raw = ['Authorization', 'Bearer a'];
    const distinct = { authorization: ['Bearer b'] };
    const plain = { authorization: 'Bearer c' };
    expect(nodeRequestHeaders({ rawHeaders: raw, headersDistinct: distinct, headers: plain })).toBe(raw);
    expect(nodeRequestHeaders({ headersDistinct: distinct, headers: plain })).toBe(distinct);
    expect(nodeRequestHeaders({ headers: plain })).toBe(plain);
    // A framework stand-in (koa-passport, Fastify) with Node's request underneath.
    expect(nodeRequestHeaders({ headers: plain }, { rawHeaders: raw })).toBe(raw);
    expect(nodeRequestHeaders({ headers: plain }, { headersDistinct: distinct })).toBe(distinct);
    expect(nodeRequestHeaders(undefined, { headers: plain })).toEqual({});
  });

  it('authenticates from the field lines, names in any case', async () => {
    const wit = world.mintWit();
    const lines = [
      'Host',
      'orders.example',
      'WORKLOAD-IDENTITY-TOKEN',
      wit,
      'authorization',
      `WPT ${world.mintWpt(wit)}`,
    ];
    expect(await outcome({ method: 'GET', url: '/orders', headers: lines })).toBe(CALLER);
    expect(
      await outcome({ url: '/orders', headers: ['Authorization', `Bearer ${world.mintJwtSvid()}`] }),
    ).toBe(CALLER);
    expect(await outcome({ url: '/orders', headers: ['X-Other', 'value'] })).toBe('credentials_missing');
  });

  it('refuses a credential header that appears twice, whatever the case of the names', async () => {
    const token = world.mintJwtSvid();
    const twice = ['authorization', `Bearer ${token}`, 'Authorization', `Bearer ${token}`];
    expect(await outcome({ url: '/orders', headers: twice })).toBe('credentials_malformed');
    const wit = world.mintWit();
    const twoWits = [
      'Workload-Identity-Token',
      wit,
      'workload-identity-token',
      wit,
      'Authorization',
      `WPT ${world.mintWpt(wit)}`,
    ];
    expect(await outcome({ url: '/orders', headers: twoWits })).toBe('credentials_malformed');
  });

  it('sees the duplicate Authorization line that req.headers drops, on a real Node request', async () => {
    const token = world.mintJwtSvid();
    const request = await received(['Authorization', `Bearer ${token}`, 'authorization', `Bearer ${token}`]);
    expect(request.headers.authorization).toBe(`Bearer ${token}`); // Node kept one line only
    const headers = nodeRequestHeaders(request);
    expect(headers).toBe(request.rawHeaders);
    expect(await outcome({ url: '/orders', headers })).toBe('credentials_malformed');
    const single = await received(['Authorization', `Bearer ${token}`]);
    expect(await outcome({ url: '/orders', headers: nodeRequestHeaders(single) })).toBe(CALLER);
  });
});
