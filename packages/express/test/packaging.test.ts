// The published shape of @wimse-auth/express, including the `./augment` subpath, which the
// repo-wide test/packaging/dual-format.test.ts does not cover: the package is `npm pack`ed,
// unpacked into node_modules of a temp consumer OUTSIDE the repo, with its dependency and peer
// (express, @types/express, as an Express + TypeScript user has them) linked in; then
// require() and import() load both entry points through the exports map, and .cts/.mts
// consumers that opt into the augmentation type-check with module node16.
//
// Needs the build (`npm run build` at the root, or `npx tsup` in packages/express).
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = path.resolve(PACKAGE, '../..');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const TIMEOUT = 60_000;
const LINKED = ['@wimse-auth/core', 'express', '@types/express', '@types/node'];

let work = '';
let installed = '';
let packedFiles: string[] = [];

beforeAll(async () => {
  if (!existsSync(path.join(PACKAGE, 'dist', 'augment.cjs'))) {
    throw new Error('packages/express/dist is not built: run `npm run build` at the repository root');
  }
  work = mkdtempSync(path.join(tmpdir(), 'wimse-express-pack-'));
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
    cwd: PACKAGE,
    timeout: TIMEOUT,
  });
  const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  if (!info) throw new Error('npm pack printed nothing');
  packedFiles = info.files.map((file) => file.path);
  await run('tar', ['-xzf', path.join(work, info.filename), '-C', work]);
  installed = path.join(work, 'node_modules', '@wimse-auth', 'express');
  mkdirSync(path.dirname(installed), { recursive: true });
  await run('mv', [path.join(work, 'package'), installed]);
  for (const dep of LINKED) {
    const dest = path.join(work, 'node_modules', dep);
    mkdirSync(path.dirname(dest), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules', dep), dest, 'dir');
  }
  writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
}, TIMEOUT);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

async function node(file: string, source: string): Promise<unknown> {
  writeFileSync(path.join(work, file), source);
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const { stdout } = await run(process.execPath, [file], { cwd: work, env, timeout: TIMEOUT });
  return JSON.parse(stdout.trim());
}

describe('@wimse-auth/express as published', () => {
  it('ships the README and both entry points in both formats with types', () => {
    for (const file of ['README.md', 'package.json']) expect(packedFiles).toContain(file);
    for (const entry of ['index', 'augment']) {
      for (const ext of ['.js', '.cjs', '.d.ts', '.d.cts'])
        expect(packedFiles).toContain(`dist/${entry}${ext}`);
    }
  });

  it('require() loads the CJS builds of "." and "./augment"', async () => {
    const report = await node(
      'probe.cjs',
      `const augment = require('@wimse-auth/express/augment');
const m = require('@wimse-auth/express');
console.log(JSON.stringify({
  augment: require.resolve('@wimse-auth/express/augment'), augmentKeys: Object.keys(augment),
  main: require.resolve('@wimse-auth/express'), wimse: typeof m.wimse, requireWorkload: typeof m.requireWorkload,
}));`,
    );
    expect(report).toEqual({
      augment: path.join(installed, 'dist/augment.cjs'),
      augmentKeys: [],
      main: path.join(installed, 'dist/index.cjs'),
      wimse: 'function',
      requireWorkload: 'function',
    });
  });

  it('import loads the ESM builds of "." and "./augment"', async () => {
    const report = await node(
      'probe.mjs',
      `import '@wimse-auth/express/augment';
import { fileURLToPath } from 'node:url';
const m = await import('@wimse-auth/express');
const augment = await import('@wimse-auth/express/augment');
console.log(JSON.stringify({
  augment: fileURLToPath(import.meta.resolve('@wimse-auth/express/augment')), augmentKeys: Object.keys(augment),
  main: fileURLToPath(import.meta.resolve('@wimse-auth/express')), wimse: typeof m.wimse,
  requireWorkload: typeof m.requireWorkload,
}));`,
    );
    expect(report).toEqual({
      augment: path.join(installed, 'dist/augment.js'),
      augmentKeys: [],
      main: path.join(installed, 'dist/index.js'),
      wimse: 'function',
      requireWorkload: 'function',
    });
  });

  const consumer = (importLines: string) => `${importLines}
export const app = express();
app.use(wimse({ trust: new StaticBundleSource([]), audience: { origins: ['https://orders.example.org'] } }));
app.get('/a', requireWorkload('spiffe://example.org/**'), (req, res) => {
  const id: string | undefined = req.wimse?.id; // typed by the augmentation
  res.json({ id });
});
app.get('/b', (req: WimseRequest, res) => {
  const credential: 'wpt' | 'jwt-svid' | undefined = req.wimse?.credential;
  res.json({ credential, params: req.params });
});
// @ts-expect-error a number is not an AuthorizerSpec; fails if the types degrade to any
requireWorkload(42);
// @ts-expect-error the augmentation types wimse as a principal, not any
export const n: number = ({} as express.Request).wimse;
`;

  it.each([
    {
      file: 'consumer.cts',
      source: consumer(`import express = require('express');
import { StaticBundleSource } from '@wimse-auth/core';
import { requireWorkload, wimse, type WimseRequest } from '@wimse-auth/express';
import '@wimse-auth/express/augment';`),
    },
    {
      file: 'consumer.mts',
      source: consumer(`import express from 'express';
import { StaticBundleSource } from '@wimse-auth/core';
import { requireWorkload, wimse, type WimseRequest } from '@wimse-auth/express';
import '@wimse-auth/express/augment';`),
    },
  ])(
    'a TypeScript consumer ($file) using the augmentation type-checks with module node16',
    async ({ file, source }) => {
      writeFileSync(path.join(work, file), source);
      const args = [
        TSC,
        '--noEmit',
        '--pretty',
        'false',
        '--strict',
        '--skipLibCheck',
        'false',
        '--target',
        'es2022',
        '--lib',
        'es2023',
        '--types',
        'node',
        '--module',
        'node16',
        '--moduleResolution',
        'node16',
        '--listFiles',
        file,
      ];
      const output = await run(process.execPath, args, { cwd: work, timeout: TIMEOUT }).then(
        ({ stdout }) => stdout,
        (error: { stdout?: string; message: string }) => `${error.stdout ?? ''}${error.message}`,
      );
      const lines = output.split('\n').map((line) => line.trim());
      expect(lines.filter((line) => /\berror TS\d+:/.test(line))).toEqual([]);
      const cjs = file.endsWith('.cts');
      expect(lines).toContain(path.join(installed, cjs ? 'dist/augment.d.cts' : 'dist/augment.d.ts'));
      expect(lines).toContain(path.join(installed, cjs ? 'dist/index.d.cts' : 'dist/index.d.ts'));
    },
    TIMEOUT,
  );
});
