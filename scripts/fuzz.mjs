#!/usr/bin/env node
// `npm run fuzz`: the property-based fuzz targets of test/fuzz with at least 100,000 inputs
// per property (the normal test run uses a seeded 2,000). Each run uses a fresh seed unless
// WIMSE_FUZZ_SEED is set; a failure prints the seed and path that reproduce it:
//   WIMSE_FUZZ_SEED=<seed> WIMSE_FUZZ_RUNS=<n> npx vitest run --project e2e test/fuzz
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const runs = process.env.WIMSE_FUZZ_RUNS ?? '100000';
const seed = process.env.WIMSE_FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31));
if (!/^\d+$/.test(runs) || Number(runs) < 1) {
  console.error('WIMSE_FUZZ_RUNS must be a positive integer');
  process.exit(2);
}
console.log(`fuzzing with ${runs} inputs per property, seed ${seed}`);
const result = spawnSync(
  'npx',
  ['vitest', 'run', '--project', 'e2e', 'test/fuzz', '--testTimeout', '0', ...process.argv.slice(2)],
  { cwd: root, stdio: 'inherit', env: { ...process.env, WIMSE_FUZZ_RUNS: runs, WIMSE_FUZZ_SEED: seed } },
);
if (result.status === 0) {
  const summary = spawnSync(process.execPath, ['scripts/hardening-summary.mjs', '--only', 'fuzz'], {
    cwd: root,
    stdio: 'inherit',
  });
  process.exit(summary.status ?? 1);
}
console.error(`fuzzing failed (seed ${seed}); rerun with WIMSE_FUZZ_SEED=${seed} to reproduce`);
process.exit(result.status ?? 1);
