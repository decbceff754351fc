import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mainExample, substitute, typecheck } from '../../../test/support/readme-example.js';
import { createTestTrustDomain } from '../../testing/src/index.js';
import { startServer, type TestServer } from './support/server.js';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const td = createTestTrustDomain('example.org');
let server: TestServer;
let dir = '';
let file = '';

beforeAll(async () => {
  server = await startServer({ trust: td.bundleSource });
  dir = mkdtempSync(path.join(PACKAGE, '.readme-example-'));
  const issued = td.issueWit({ sub: '/ns/prod/sa/billing' });
  const witFile = path.join(dir, 'wit.jwt');
  const keyFile = path.join(dir, 'key.pem');
  writeFileSync(witFile, `${issued.token}\n`);
  writeFileSync(keyFile, issued.workloadKey.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  let source = mainExample(PACKAGE);
  source = substitute(source, "'@wimse-auth/client'", "'../src/index.js'");
  source = substitute(source, "'/run/wimse/wit.jwt'", JSON.stringify(witFile));
  source = substitute(source, "'/run/wimse/workload-key.pem'", JSON.stringify(keyFile));
  source = substitute(source, 'https://orders.internal.example.org', server.origin);
  source = substitute(source, 'console.log(response.status);', 'export { response };');
  file = path.join(dir, 'example.ts');
  writeFileSync(file, source);
});

afterAll(async () => {
  await server.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README main example', () => {
  it('type-checks (strict, NodeNext, exactOptionalPropertyTypes)', async () => {
    const result = await typecheck(file, PACKAGE);
    expect(result).toBe('');
  }, 60_000);

  it('runs and is authenticated as the workload', async () => {
    const { response } = (await import(pathToFileURL(file).href)) as { response: Response };
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      id: 'spiffe://example.org/ns/prod/sa/billing',
      credentialForm: 'wpt-authorization',
    });
  });
});
