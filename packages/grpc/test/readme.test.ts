// Runs the README's main example as written: the ```ts block after the `main-example` marker is
// copied into a temporary module inside this package, with only these substitutions (each must
// apply exactly once): '@wimse-auth/grpc' -> this package's sources, the bundle path -> a
// bundle file of a test trust domain, and `const server` exported. `./echo-service.js` is
// provided next to it (the Echo service definition the example assumes).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { createTestTrustDomain } from '@wimse-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mainExample, substitute, typecheck } from '../../../test/support/readme-example.js';
import { wimseClientInterceptor } from '../src/index.js';
import { echoClient, unary } from './support.js';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const td = createTestTrustDomain('example.org');
let dir = '';
let file = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(PACKAGE, '.readme-example-'));
  const bundleFile = path.join(dir, 'bundle.json');
  writeFileSync(bundleFile, JSON.stringify(td.bundle));
  writeFileSync(
    path.join(dir, 'echo-service.ts'),
    [
      "import * as grpc from '@grpc/grpc-js';",
      "import * as protoLoader from '@grpc/proto-loader';",
      `const definition = protoLoader.loadSync(${JSON.stringify(path.join(PACKAGE, '..', '..', 'test', 'support', 'fixtures', 'echo.proto'))}, { keepCase: true });`,
      'const loaded = grpc.loadPackageDefinition(definition) as unknown as {',
      '  wimse: { test: { Echo: grpc.ServiceClientConstructor } };',
      '};',
      'export const echoService: grpc.ServiceDefinition = loaded.wimse.test.Echo.service;',
      '',
    ].join('\n'),
  );
  let source = mainExample(PACKAGE);
  source = substitute(source, "'@wimse-auth/grpc'", "'../src/index.js'");
  source = substitute(source, "'/run/spire/bundle.json'", JSON.stringify(bundleFile));
  source = substitute(source, 'const server = ', 'export const server = ');
  file = path.join(dir, 'example.ts');
  writeFileSync(file, source);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README main example', () => {
  it('type-checks (strict, NodeNext, exactOptionalPropertyTypes)', async () => {
    expect(await typecheck(file, PACKAGE)).toBe('');
  }, 60_000);

  it('serves the admitted workload and denies another one', async () => {
    const { server } = (await import(pathToFileURL(file).href)) as { server: grpc.Server };
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    try {
      const clientAs = (sub: string) => {
        const key = td.generateWorkloadKey();
        return echoClient(`127.0.0.1:${port}`, {
          interceptors: [
            wimseClientInterceptor({
              wit: td.issueWit({ sub, key }).token,
              privateKey: key.privateKey,
              authority: 'echo.example.org',
              allowInsecureChannel: true,
            }),
          ],
        });
      };
      expect(await unary(clientAs('/client'), undefined, 'hi')).toMatchObject({
        code: grpc.status.OK,
        replies: [{ message: 'hi (from spiffe://example.org/client)' }],
      });
      expect(await unary(clientAs('/other'))).toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
        trailers: { 'wimse-error': ['access_denied'] },
      });
    } finally {
      server.forceShutdown();
    }
  });
});
