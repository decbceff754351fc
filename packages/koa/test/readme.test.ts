// Keeps the README's Koa example honest: the marked code block in README.md must be exactly
// examples/orders-service.js, and that file is run here against a real FileBundleSource and
// real HTTP requests. Editing either one alone, or breaking the example, fails this test.
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { type Running, send, serverInfo } from './support.js';

// The example imports the package by name; run it against the sources, not a stale dist/.
vi.mock('@wimse-auth/koa', () => import('../src/index.js'));

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLE = 'examples/orders-service.js';
const MARKER = `<!-- tested: ${EXAMPLE} -->`;
const ORIGIN = 'https://orders.internal.example.org';

/** The fenced code block right after `MARKER` in README.md. */
function readmeBlock(): string {
  const readme = readFileSync(path.join(PACKAGE, 'README.md'), 'utf8');
  const at = readme.indexOf(MARKER);
  if (at < 0) throw new Error(`README.md has no ${MARKER} marker`);
  const match = /^```js\n([\s\S]*?)^```$/m.exec(readme.slice(at + MARKER.length));
  if (match === null) throw new Error(`no \`\`\`js block after ${MARKER}`);
  return match[1]!;
}

describe('README example', () => {
  const td = createTestTrustDomain();
  let dir = '';
  let running: Running | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'wimse-koa-readme-'));
    const bundlePath = path.join(dir, 'bundle.json');
    writeFileSync(bundlePath, JSON.stringify(td.bundle));
    const listen = vi.spyOn(Koa.prototype, 'listen');
    const saved = { PORT: process.env.PORT, BUNDLE_PATH: process.env.BUNDLE_PATH };
    process.env.PORT = '0';
    process.env.BUNDLE_PATH = bundlePath;
    let servers: Server[];
    try {
      // A computed specifier: the example is plain JavaScript, outside the type-checked sources.
      await import(path.join(PACKAGE, EXAMPLE));
      servers = listen.mock.results.map((result) => result.value as Server);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      listen.mockRestore();
    }
    expect(servers).toHaveLength(1);
    const server = servers[0]!;
    if (!server.listening) await once(server, 'listening');
    running = serverInfo(server);
  });

  afterAll(async () => {
    await running?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('README.md shows examples/orders-service.js verbatim', () => {
    expect(readmeBlock()).toBe(readFileSync(path.join(PACKAGE, EXAMPLE), 'utf8'));
  });

  it('serves an allowed caller', async () => {
    const reply = await send(running!.base, '/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID });
  });

  it('answers a missing credential with 401, challenges and problem JSON', async () => {
    const reply = await send(running!.base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.challenges).toEqual(['WPT', 'Bearer']);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.json()).toMatchObject({ code: 'credentials_missing', status: 401 });
  });

  it('answers a caller the route does not allow with 403', async () => {
    const reply = await send(
      running!.base,
      '/orders/42',
      { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` },
      'DELETE',
    );
    expect(reply.status).toBe(403);
    expect(reply.json()).toMatchObject({ code: 'access_denied' });
  });
});
