// Shared by the packages' README tests: find the README's marked main example, substitute
// test values into it, and type-check it as a consumer would (strict, NodeNext).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';

const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');

/** The ```ts block following the `<!-- main-example` marker in `<packageDir>/README.md`. */
export function mainExample(packageDir: string): string {
  const readme = readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  const marker = readme.indexOf('<!-- main-example');
  expect(marker, 'README has a <!-- main-example --> marker').toBeGreaterThanOrEqual(0);
  const block = /```ts\n([\s\S]*?)\n```/.exec(readme.slice(marker));
  expect(block, 'a ```ts block follows the marker').not.toBeNull();
  return block?.[1] ?? '';
}

/** Replaces `from` with `to`, asserting `from` occurs exactly once (so the README cannot drift). */
export function substitute(source: string, from: string, to: string): string {
  expect(source.split(from).length - 1, `README example must contain ${from} exactly once`).toBe(1);
  return source.replace(from, () => to);
}

/** tsc's diagnostics for `file` (empty when it type-checks), with the settings users are told to use. */
export async function typecheck(file: string, cwd: string): Promise<string> {
  const args = [
    TSC,
    '--noEmit',
    '--pretty',
    'false',
    '--strict',
    '--exactOptionalPropertyTypes',
    '--skipLibCheck',
    '--target',
    'es2022',
    '--lib',
    'es2023',
    '--types',
    'node',
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    file,
  ];
  return promisify(execFile)(process.execPath, args, { cwd, timeout: 60_000 }).then(
    () => '',
    (error: { stdout?: string; message: string }) => error.stdout || error.message,
  );
}
