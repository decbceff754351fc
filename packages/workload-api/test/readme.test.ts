import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type FakeWorkloadApi, startFakeWorkloadApi } from '@wimse-auth/testing/workload-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mainExample, substitute, typecheck } from '../../../test/support/readme-example.js';
import { waitFor } from './helpers.js';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir = '';
let file = '';
let agent: FakeWorkloadApi | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(PACKAGE, '.readme-example-'));
  const source = substitute(mainExample(PACKAGE), "'@wimse-auth/workload-api'", "'../src/index.js'");
  file = path.join(dir, 'example.ts');
  writeFileSync(file, `${source}\nexport {};\n`);
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await agent?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README main example', () => {
  it('type-checks (strict, NodeNext, exactOptionalPropertyTypes)', async () => {
    expect(await typecheck(file, PACKAGE)).toBe('');
  }, 60_000);

  it('runs against the fake agent named by SPIFFE_ENDPOINT_SOCKET', async () => {
    agent = await startFakeWorkloadApi();
    vi.stubEnv('SPIFFE_ENDPOINT_SOCKET', agent.endpoint);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await import(pathToFileURL(file).href);
      expect(log).toHaveBeenCalledWith('spiffe://example.org/workload');
    } finally {
      log.mockRestore();
    }
    // close() ended the stream; the server learns it a moment later.
    await waitFor(() => agent?.openBundleStreams === 0, 'the stream to end');
    expect(agent.calls).toMatchObject({ FetchJWTBundles: 1, FetchJWTSVID: 1 });
  });
});
