// Runs the README's main example as written. The ```ts block after the `main-example` marker is
// copied into a temporary module inside this package (so the test transformer compiles its
// decorators with this package's tsconfig), with only these substitutions, each of which must
// apply exactly once:
//   - '@wimse-auth/nestjs' -> this package's sources;
//   - '/run/spire/bundle.json' -> a bundle file of the test trust domain;
//   - 'NestFactory.create(AppModule)' -> the same without logging;
//   - 'await app.listen(8080);' -> an ephemeral port on 127.0.0.1, exporting `app` and `trust`.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { challenge, get } from './support.js';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const README = readFileSync(path.join(PACKAGE, 'README.md'), 'utf8');
const ORIGIN = 'https://orders.internal.example.org';
const ADMIN = 'spiffe://example.org/ns/prod/sa/admin';

function mainExample(): string {
  const marker = README.indexOf('<!-- main-example');
  expect(marker, 'README.md has no <!-- main-example --> marker').toBeGreaterThanOrEqual(0);
  const block = /```ts\n([\s\S]*?)\n```/.exec(README.slice(marker));
  expect(block, 'no ```ts block after the main-example marker').not.toBeNull();
  return block?.[1] ?? '';
}

function substitute(source: string, from: string, to: string): string {
  expect(source.split(from).length - 1, `README example must contain ${from} exactly once`).toBe(1);
  return source.replace(from, () => to);
}

const td = createTestTrustDomain();
let dir = '';
let example: { app: INestApplication; trust: { close(): Promise<void> } } | undefined;
let base = '';

beforeAll(async () => {
  dir = mkdtempSync(path.join(PACKAGE, '.readme-example-'));
  const bundle = path.join(dir, 'bundle.json');
  writeFileSync(bundle, JSON.stringify(td.bundle));
  let source = mainExample();
  source = substitute(source, "'@wimse-auth/nestjs'", "'../src/index.js'");
  source = substitute(source, "'/run/spire/bundle.json'", JSON.stringify(bundle));
  source = substitute(
    source,
    'NestFactory.create(AppModule)',
    'NestFactory.create(AppModule, { logger: false })',
  );
  source = substitute(
    source,
    'await app.listen(8080);',
    "await app.listen(0, '127.0.0.1');\nexport { app, trust };",
  );
  const file = path.join(dir, 'example.ts');
  writeFileSync(file, source);
  const loaded = (await import(pathToFileURL(file).href)) as NonNullable<typeof example>;
  example = loaded;
  const { port } = loaded.app.getHttpServer().address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
}, 30_000);

afterAll(async () => {
  await example?.app.close();
  await example?.trust.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const proof = (route: string, sub = CALLER_ID) => td.proofHeaders(`${ORIGIN}${route}`, td.issueWit({ sub }));

describe('README main example', () => {
  it('200 for a caller with a WIT + WPT', async () => {
    const reply = await get(base, '/orders', proof('/orders'));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID, credential: 'wpt' });
  });

  it('401 with challenges and a problem body without credentials', async () => {
    const reply = await get(base, '/orders');
    expect(reply.status).toBe(401);
    expect(challenge(reply)).toBe('WPT, Bearer');
    expect(reply.json()).toMatchObject({
      type: 'urn:wimse-auth:error:credentials_missing',
      status: 401,
      code: 'credentials_missing',
    });
  });

  it('/orders/admin: 403 for another workload or a bearer admin, 200 for an admin with a proof', async () => {
    expect((await get(base, '/orders/admin', proof('/orders/admin'))).status).toBe(403);
    const bearer = { authorization: `Bearer ${td.issueJwtSvid(ORIGIN, { sub: ADMIN })}` };
    expect((await get(base, '/orders/admin', bearer)).status).toBe(403);
    const admin = await get(base, '/orders/admin', proof('/orders/admin', ADMIN));
    expect(admin.status).toBe(200);
    expect(admin.json()).toEqual({ admin: ADMIN });
  });

  it('/orders/health is public', async () => {
    expect((await get(base, '/orders/health')).json()).toEqual({ ok: true });
  });
});
