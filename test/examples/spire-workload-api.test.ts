import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startFakeWorkloadApi } from '@wimse-auth/testing/workload-api';
import { describe, expect, it } from 'vitest';
import { TOKEN_PATTERN } from './example-runner.js';

const run = promisify(execFile);
const exampleDir = fileURLToPath(new URL('../../examples/spire-workload-api/', import.meta.url));

/** The environment without any variable the example reads, plus an ephemeral port. */
function exampleEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0' };
  for (const name of Object.keys(env)) {
    if (name.startsWith('WIMSE_') || name === 'SPIFFE_ENDPOINT_SOCKET') delete env[name];
  }
  return { ...env, ...extra };
}

describe('examples/spire-workload-api', () => {
  it('npm start: trust from a fake agent over a unix socket; accepted, refused, and rotation followed', async () => {
    const { stdout } = await run('npm', ['start', '--silent'], {
      cwd: exampleDir,
      env: exampleEnv(),
      timeout: 30_000,
    });
    expect(stdout).toMatch(/fake SPIRE agent \(trust domain example\.org\) on unix:\/\/\/\S+agent\.sock/);
    expect(stdout).toContain(
      'trusted trust domains: example.org; JWT-SVID audience accepted: spiffe://example.org/server',
    );
    expect(stdout).toMatch(/JWT-SVID for the service +200 +spiffe:\/\/example\.org\/client \(jwt-svid\)/);
    expect(stdout).toMatch(/JWT-SVID for another audience +401 +audience_mismatch/);
    expect(stdout).toContain('[trust] example.org bundle replaced');
    expect(stdout).toMatch(/old-key JWT-SVID after key rotation +401 +unknown_key/);
    expect(stdout).toMatch(/new JWT-SVID after key rotation +200 +spiffe:\/\/example\.org\/client/);
    expect(stdout).toContain('all outcomes as expected');
    expect(stdout).not.toMatch(TOKEN_PATTERN);
  });

  it('with SPIFFE_ENDPOINT_SOCKET set, only serves, and rides out an agent restart', async () => {
    await using agent = await startFakeWorkloadApi();
    const child = spawn(process.execPath, ['run.mjs'], {
      cwd: exampleDir,
      env: exampleEnv({
        SPIFFE_ENDPOINT_SOCKET: agent.endpoint,
        WIMSE_JWT_SVID_AUDIENCE: 'spiffe://example.org/api',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit');
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const waitForOutput = async (pattern: RegExp, what: string) => {
      const deadline = Date.now() + 15_000;
      while (!pattern.test(output)) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${what}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    try {
      await waitForOutput(/serving until stopped/, 'start-up');
      expect(output).not.toContain('fake SPIRE agent');
      const url = /service on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? '';
      const call = (aud: string) =>
        fetch(`${url}/`, {
          headers: { authorization: `Bearer ${agent.trustDomain.issueJwtSvid({ sub: '/caller', aud })}` },
        });

      expect(await (await call('spiffe://example.org/api')).json()).toMatchObject({
        caller: 'spiffe://example.org/caller',
      });
      expect((await call('spiffe://example.org/server')).status).toBe(401);

      // The agent goes away: the service keeps its last bundles and logs the event.
      await agent.stop();
      await waitForOutput(/\[trust\] bundle\.stale: unavailable/, 'stale event');
      expect((await call('spiffe://example.org/api')).status).toBe(200);
      await agent.start();
      const reconnectDeadline = Date.now() + 15_000;
      while (agent.openBundleStreams === 0) {
        if (Date.now() > reconnectDeadline) throw new Error(`the service did not reconnect:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect((await call('spiffe://example.org/api')).status).toBe(200);
      expect(output).not.toMatch(TOKEN_PATTERN);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill();
      await exited;
    }
  });
});
