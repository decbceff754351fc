import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

// Keeps `npm run bench:http` working: every variant starts, passes its preflight (no
// credential → 401, credential → 200, replayed proof → 401) and serves a second of load
// without one error response. No speed is asserted — figures come from quiet, full runs.
describe('npm run bench:http (smoke)', () => {
  it('runs every server variant clean', { timeout: 240_000 }, async () => {
    const { stdout } = await run(process.execPath, ['bench/http/run.mjs'], {
      cwd: repoRoot,
      timeout: 230_000,
      env: {
        ...process.env,
        BENCH_HTTP_SMOKE: '1',
        BENCH_HTTP_WARMUP: '0',
        BENCH_HTTP_DURATION: '1',
        BENCH_HTTP_CONNECTIONS: '4',
      },
      maxBuffer: 16 * 1024 * 1024,
    });
    const rows = stdout.split('\n').filter((line) => /^[✓✗-] /.test(line));
    expect(rows.filter((line) => line.startsWith('✗'))).toEqual([]);
    for (const label of [
      'express, no auth (ceiling)',
      'express, one no-op middleware',
      'express-jwt',
      'wimse() JWT-SVID fresh',
      'wimse() WIT+WPT Ed25519',
      'koa, one no-op middleware',
      'koa-jwt',
      'koa wimse() WIT+WPT ES256',
      'nest, no guard (ceiling)',
      'nest, a guard returning true',
      'nest, a guard setting req.user',
      'Nest WimseGuard JWT-SVID fresh',
    ]) {
      expect(rows.some((line) => line.startsWith(`✓ ${label}:`))).toBe(true);
    }
    // The Redis row runs whenever a Redis is available; CI always has one.
    const redisRow = rows.find((line) => line.includes('Redis'));
    if (process.env.CI === 'true') expect(redisRow).toMatch(/^✓ /);
    expect(stdout).not.toContain('Saved'); // a smoke run never overwrites results/latest.md
  });
});
