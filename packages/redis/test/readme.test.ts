// The README's main example, as written there (only the Redis URL, bundle path and package
// import substituted): it type-checks as a consumer's code, and run against a real Redis its
// authenticator accepts a proof once and refuses the replay.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { createAuthenticator } from '@wimse-auth/core';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRedis } from '../../../test/scale/redis-server.js';
import { mainExample, substitute, typecheck } from '../../../test/support/readme-example.js';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ORIGIN = 'https://orders.internal.example.org';
const redis = await testRedis();

const td = createTestTrustDomain();
let dir = '';
let file = '';
let example:
  | { authenticator: ReturnType<typeof createAuthenticator>; redis: Redis; trust: { close(): Promise<void> } }
  | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(PACKAGE, '.readme-example-'));
  const bundle = path.join(dir, 'bundle.json');
  writeFileSync(bundle, JSON.stringify(td.bundle));
  let source = mainExample(PACKAGE);
  source = substitute(source, "'@wimse-auth/redis'", "'../src/index.js'");
  source = substitute(source, "'/run/spire/bundle.json'", JSON.stringify(bundle));
  source = substitute(
    source,
    "'redis://127.0.0.1:6379'",
    JSON.stringify(redis?.url ?? 'redis://127.0.0.1:1'),
  );
  source += '\nexport { authenticator, redis, trust };\n';
  file = path.join(dir, 'example.ts');
  writeFileSync(file, source);
});

afterAll(async () => {
  await example?.trust.close();
  example?.redis.disconnect();
  await redis?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README main example', () => {
  it('type-checks (strict, NodeNext, exactOptionalPropertyTypes)', async () => {
    expect(await typecheck(file, PACKAGE)).toBe('');
  }, 60_000);

  it.skipIf(!redis)('runs against Redis: a proof is accepted once, its replay refused', async () => {
    example = (await import(pathToFileURL(file).href)) as typeof example;
    if (example === undefined) throw new Error('example module did not load');
    const request = { url: '/orders', headers: td.proofHeaders(`${ORIGIN}/orders`) };
    expect((await example.authenticator.authenticate(request)).id).toBe(CALLER_ID);
    await expect(example.authenticator.authenticate(request)).rejects.toMatchObject({
      code: 'replay_detected',
    });
  });
});
