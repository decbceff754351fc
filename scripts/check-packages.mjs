#!/usr/bin/env node
// Packaging gate for every publishable workspace package (`npm run check`).
//
// For each non-private package under packages/*:
//   1. publint (programmatic API), strict: warnings are raised to errors, and any error fails.
//      Suggestions are printed but do not fail the run.
//   2. @arethetypeswrong/core on the tarball `npm pack` actually produces, checked under the
//      resolution kinds below. Any problem fails; no rule is ignored (see IGNORED_RULES).
//
// Both tools read the build output, so run `npm run build` first.
// Prints one verdict line per package and exits 1 on any problem.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkPackage, createPackageFromTarballData } from '@arethetypeswrong/core';
import { problemAffectsResolutionKind, problemKindInfo } from '@arethetypeswrong/core/problems';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// attw's "strict" profile: every resolution kind it knows. It covers the three this repo must
// support (node16 from CJS, node16 from ESM, bundler) plus legacy node10 (`moduleResolution:
// "node"`), which costs nothing while `main`/`types` are kept pointing at the CJS build.
const RESOLUTION_KINDS = ['node10', 'node16-cjs', 'node16-esm', 'bundler'];

// attw rules deliberately ignored, as `ProblemKind` names. Empty on purpose.
//
// Investigated: "CJSResolvesToESM" for the ESM-only `jose` dependency. attw analyses only the
// files inside this package's own tarball; it never resolves into dependencies, so a `require`
// of jose inside dist/index.cjs or an `import ... from 'jose'` in dist/index.d.cts cannot raise
// it. Our own `require` condition resolves to dist/index.cjs + dist/index.d.cts (both CJS), so
// the rule is satisfied for real and must stay on: if a future exports map sent `require` to
// an .js/.d.ts (ESM) file, that *would* be worth failing for, even though Node >= 20.19 could
// load it through require(esm), because bundlers and TS `module: node16` cannot.
// (The require(esm) hop into jose is proven at runtime by test/packaging/dual-format.test.ts.)
const IGNORED_RULES = [];

function workspacePackageDirs() {
  const rootPkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const dirs = [];
  for (const pattern of rootPkg.workspaces ?? []) {
    if (!pattern.endsWith('/*')) throw new Error(`unsupported workspace pattern: ${pattern}`);
    const base = path.join(ROOT, pattern.slice(0, -2));
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      const dir = path.join(base, entry.name);
      if (entry.isDirectory() && existsSync(path.join(dir, 'package.json'))) dirs.push(dir);
    }
  }
  return dirs.sort();
}

async function runPublint(dir) {
  const { messages, pkg } = await publint({ pkgDir: dir, strict: true, level: 'suggestion', pack: 'npm' });
  const failures = [];
  const notes = [];
  for (const message of messages) {
    const text = `publint ${message.type} ${message.code}: ${formatMessage(message, pkg, { color: false }) ?? ''}`;
    (message.type === 'suggestion' ? notes : failures).push(text);
  }
  return { failures, notes };
}

function packTarball(dir, dest) {
  const out = execFileSync('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', dest], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [info] = JSON.parse(out);
  if (!info?.filename) throw new Error(`npm pack printed no filename:\n${out}`);
  return path.join(dest, info.filename);
}

function describeProblem(problem) {
  const title = problemKindInfo[problem.kind]?.title ?? problem.kind;
  const where = [];
  if ('entrypoint' in problem) where.push(`entrypoint "${problem.entrypoint}"`);
  if ('resolutionKind' in problem) where.push(problem.resolutionKind);
  if ('resolutionOption' in problem) where.push(problem.resolutionOption);
  if ('typesFileName' in problem) where.push(`${problem.typesFileName} vs ${problem.implementationFileName}`);
  if ('fileName' in problem) where.push(problem.fileName);
  if ('moduleSpecifier' in problem) where.push(`"${problem.moduleSpecifier}"`);
  if (problem.kind === 'NamedExports') where.push(`missing: ${problem.missing.join(', ')}`);
  return `attw ${problem.kind} (${title}): ${where.join(', ')}`;
}

async function runAttw(dir, scratch) {
  const tarball = packTarball(dir, scratch);
  const analysis = await checkPackage(createPackageFromTarballData(new Uint8Array(readFileSync(tarball))));
  if (!analysis.types) return { failures: ['attw: package ships no type declarations'], notes: [] };
  const failures = analysis.problems
    .filter((problem) => !IGNORED_RULES.includes(problem.kind))
    .filter((problem) =>
      RESOLUTION_KINDS.some((kind) => problemAffectsResolutionKind(problem, kind, analysis)),
    )
    .map(describeProblem);
  return { failures, notes: [] };
}

async function main() {
  const scratch = mkdtempSync(path.join(tmpdir(), 'wimse-check-'));
  let failed = false;
  let checked = 0;
  try {
    for (const dir of workspacePackageDirs()) {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
      const name = manifest.name ?? path.relative(ROOT, dir);
      if (manifest.private === true) {
        console.log(`SKIP ${name} (private)`);
        continue;
      }
      checked++;
      const problems = [];
      const notes = [];
      for (const [tool, run] of [
        ['publint', () => runPublint(dir)],
        ['attw', () => runAttw(dir, scratch)],
      ]) {
        try {
          const result = await run();
          problems.push(...result.failures);
          notes.push(...result.notes);
        } catch (error) {
          problems.push(
            `${tool} crashed: ${error instanceof Error ? (error.stack ?? error.message) : error}`,
          );
        }
      }
      for (const note of notes) console.log(`  note: ${note}`);
      for (const problem of problems) console.log(`  ${problem}`);
      if (problems.length > 0) {
        failed = true;
        console.log(`FAIL ${name}@${manifest.version}: ${problems.length} packaging problem(s)`);
      } else {
        console.log(
          `PASS ${name}@${manifest.version}: publint strict clean, attw clean (${RESOLUTION_KINDS.join(', ')})`,
        );
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  if (checked === 0) {
    console.log('FAIL: no publishable workspace package found');
    failed = true;
  }
  process.exit(failed ? 1 : 0);
}

await main();
