import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('npm run demo (examples/demo)', () => {
  it('runs the table of calls and every outcome is the expected one', async () => {
    const { stdout } = await run(process.execPath, ['examples/demo/demo.mjs'], {
      cwd: repoRoot,
      timeout: 30_000,
    });
    expect(stdout).toContain('all outcomes as expected');
    expect(stdout).toMatch(/same proof replayed .* 401 +replay_detected/);
    expect(stdout).toMatch(/billing → Express \/admin .* 403 +access_denied/);
    expect(stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
  });
});

describe('npm run demo (examples/draft-example)', () => {
  it('authenticates the drafts’ example request with the built package and refuses its replay', async () => {
    const { stdout } = await run(process.execPath, ['examples/draft-example/verify-draft-example.mjs'], {
      cwd: repoRoot,
      timeout: 30_000,
    });
    expect(stdout).toContain('authenticated workload: wimse://example.com/specific-workload');
    expect(stdout).toContain('credential:   wpt (wpt-header)');
    expect(stdout).toContain('replayed proof refused: 401 replay_detected');
    // The demo prints identities, never token material.
    expect(stdout).not.toMatch(/eyJ[A-Za-z0-9_-]{20,}/);
  });
});
