// examples/nest-app: `npm start` (the CommonJS Nest app on the built dist/index.cjs), then one
// good and a few bad calls from the example's own caller, call.mjs.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const EXAMPLE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples/nest-app');

describe('examples/nest-app', () => {
  let child: ChildProcess | undefined;
  let env: NodeJS.ProcessEnv = {};
  let devDir = '';

  beforeAll(async () => {
    devDir = mkdtempSync(path.join(tmpdir(), 'wimse-nest-app-'));
    const origin = 'http://localhost:3000';
    env = { ...process.env, PORT: '0', SERVICE_ORIGIN: origin, WIMSE_DEV_DIR: devDir };
    delete env.NODE_OPTIONS;
    const started = spawn('npm', ['start', '--silent'], { cwd: EXAMPLE, env, detached: true, stdio: 'pipe' });
    child = started;
    const url = await new Promise<string>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`the example did not start:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /listening on (http:\/\/\S+)/.exec(output);
        if (match?.[1]) {
          clearTimeout(timer);
          resolve(match[1]);
        }
      };
      started.stdout.on('data', onData);
      started.stderr.on('data', onData);
      started.on('exit', (code) => reject(new Error(`the example exited (${code}):\n${output}`)));
    });
    env.SERVICE_URL = url.replace('[::1]', '127.0.0.1');
  }, 30_000);

  afterAll(() => {
    if (child?.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM'); // the npm process group
      } catch {
        // already gone
      }
    }
    if (devDir) rmSync(devDir, { recursive: true, force: true });
  });

  const call = async (...args: string[]) => {
    const { stdout } = await run(process.execPath, ['call.mjs', ...args], {
      cwd: EXAMPLE,
      env,
      timeout: 20_000,
    });
    return stdout;
  };

  it('a workload with a WIT + WPT gets its orders', async () => {
    const out = await call('/orders');
    expect(out).toContain('GET /orders -> 200');
    expect(out).toContain('"caller":"spiffe://example.org/ns/prod/sa/billing"');
  });

  it('no credentials: 401 with challenges', async () => {
    const out = await call('/orders', '--none');
    expect(out).toContain('GET /orders -> 401');
    expect(out).toContain('WWW-Authenticate: WPT realm="nest-app", Bearer realm="nest-app"');
    expect(out).toContain('"code":"credentials_missing"');
  });

  it('the audit route: 403 for a bearer JWT-SVID auditor, 200 with proof of possession', async () => {
    const auditor = ['--as', 'spiffe://example.org/ns/prod/sa/auditor'];
    expect(await call('/orders/audit', '--jwt-svid', ...auditor)).toContain('-> 403');
    expect(await call('/orders/audit', ...auditor)).toContain('-> 200');
    expect(await call('/orders/audit')).toContain('-> 403');
  });

  it('public and optional routes', async () => {
    expect(await call('/health', '--none')).toContain('-> 200');
    expect(await call('/whoami', '--jwt-svid')).toContain('"trustDomain":"example.org"');
  });
});
