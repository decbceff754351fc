import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFakeWorkloadApi } from '@wimse-auth/testing/workload-api';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('close()', () => {
  it('leaves nothing open: a process using the built package exits by itself', async () => {
    // The agent lives in this process and stays up: a stream or channel the child forgot to
    // close would keep its socket, and so the child, alive.
    await using fake = await startFakeWorkloadApi();
    const script = fileURLToPath(new URL('./fixtures/open-and-close.mjs', import.meta.url));
    const unreachable = `unix://${join(fileURLToPath(new URL('.', import.meta.url)), 'no-agent-here.sock')}`;
    // execFile's timeout kills a child that hangs, which fails the test instead of hanging it.
    const { stdout } = await run(process.execPath, [script], {
      timeout: 15_000,
      env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: fake.endpoint, UNREACHABLE_ENDPOINT: unreachable },
    });
    expect(stdout.trim()).toBe('closed');
    expect(fake.openBundleStreams).toBe(0);
    expect(fake.calls).toMatchObject({ FetchJWTBundles: 1, FetchJWTSVID: 1, FetchWITBundles: 1 });
  });
});
