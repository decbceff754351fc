import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mainExample, substitute, typecheck } from '../../../test/support/readme-example.js';

const PACKAGE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
let dir = '';
let file = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(PACKAGE, '.readme-example-'));
  let source = mainExample(PACKAGE);
  source = substitute(source, "'@wimse-auth/testing'", "'../src/index.js'");
  source = substitute(source, "'@wimse-auth/client'", "'../../client/src/index.js'");
  file = path.join(dir, 'example.ts');
  writeFileSync(file, `${source}\nexport {};\n`);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('README main example', () => {
  it('type-checks (strict, NodeNext, exactOptionalPropertyTypes)', async () => {
    const result = await typecheck(file, PACKAGE);
    expect(result).toBe('');
  }, 60_000);

  it('runs', async () => {
    await expect(import(pathToFileURL(file).href)).resolves.toBeDefined();
  });
});
