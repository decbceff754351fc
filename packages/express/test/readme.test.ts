import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mainExample, substitute, typecheck } from '../../../test/support/readme-example.js';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { listening, type Running } from './support/http.js';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const README = readFileSync(path.join(PACKAGE, 'README.md'), 'utf8');
const ORIGIN = 'https://orders.internal.example.org';

const td = createTestTrustDomain();
let dir = '';
let file = '';
let example: { server: Server; trust: { close(): Promise<void> } } | undefined;
let running: Running | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(PACKAGE, '.readme-example-'));
  const bundle = path.join(dir, 'bundle.json');
  writeFileSync(bundle, JSON.stringify(td.bundle));
  let source = mainExample(PACKAGE);
  source = substitute(source, "'@wimse-auth/express/augment'", "'../src/augment.js'");
  source = substitute(source, "'@wimse-auth/express'", "'../src/index.js'");
  source = substitute(source, "'/run/spire/bundle.json'", JSON.stringify(bundle));
  source = substitute(
    source,
    'app.listen(8080);',
    "export const server = app.listen(0, '127.0.0.1');\nexport { trust };",
  );
  file = path.join(dir, 'example.ts');
  writeFileSync(file, source);
});

afterAll(async () => {
  await running?.close();
  await example?.trust.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README main example', () => {
  it('type-checks (strict, NodeNext, exactOptionalPropertyTypes)', async () => {
    const result = await typecheck(file, PACKAGE);
    expect(result).toBe('');
  }, 60_000);

  it('runs: proof from an allowed workload 200, none 401 as documented, another workload 403', async () => {
    example = (await import(pathToFileURL(file).href)) as typeof example;
    if (example === undefined) throw new Error('example module did not load');
    running = await listening(example.server);

    const ok = await fetch(`${running.base}/orders`, { headers: td.proofHeaders(`${ORIGIN}/orders`) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ caller: CALLER_ID, credential: 'wpt' });

    // The 401 exactly as the README shows it.
    const documented = /```http\n([\s\S]*?)\n```/.exec(README)?.[1] ?? '';
    const [head = '', body = ''] = documented.split('\n\n');
    const missing = await fetch(`${running.base}/orders`);
    expect(head.split('\n')[0]).toBe(`HTTP/1.1 ${missing.status} ${missing.statusText}`);
    for (const line of head.split('\n').slice(1)) {
      const [name = '', value = ''] = line.split(': ');
      if (name.toLowerCase() === 'www-authenticate') {
        expect(missing.headers.get(name)).toContain(value);
      } else {
        expect(missing.headers.get(name)).toBe(value);
      }
    }
    expect(await missing.json()).toEqual(JSON.parse(body));

    const other = await fetch(`${running.base}/orders`, {
      headers: {
        authorization: `Bearer ${td.issueJwtSvid(ORIGIN, { sub: 'spiffe://example.org/ns/dev/sa/x' })}`,
      },
    });
    expect(other.status).toBe(403);
    expect(await other.json()).toMatchObject({ code: 'access_denied' });
  });
});
