// Dual-format (ESM + CJS) smoke test of the *published* shape of every workspace package.
//
// How it exercises the real package rather than the sources:
//   - each non-private package is `npm pack`ed (so `files` is honoured) and the tarball is
//     unpacked into node_modules/<name> of a temp directory OUTSIDE the repo;
//   - its runtime dependencies are symlinked in from the repo's node_modules, as an installer
//     would provide them;
//   - probes run as `process.execPath` (the Node running vitest, so CI covers Node 20 and 24)
//     with cwd in that temp directory, and load the package by bare name, so Node resolves it
//     through the package.json `exports` map;
//   - TypeScript consumers (.cts and .mts) are type-checked there with the repo's tsc.
//
// Needs `npm run build` first (the root `npm test` does that).

import { execFile } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TSC = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const TIMEOUT = 60_000;
const SUBPROCESS_TIMEOUT = 50_000;

interface Manifest {
  name: string;
  version: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  exports?: Record<string, unknown>;
  types?: string;
}

interface WorkspacePackage {
  dir: string;
  manifest: Manifest;
}

function workspacePackages(): WorkspacePackage[] {
  const rootManifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
    workspaces?: string[];
  };
  const found: WorkspacePackage[] = [];
  for (const pattern of rootManifest.workspaces ?? []) {
    if (!pattern.endsWith('/*')) throw new Error(`unsupported workspace pattern ${pattern}`);
    const base = path.join(ROOT, pattern.slice(0, -2));
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      const file = path.join(base, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(file)) continue;
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
      if (manifest.private !== true) found.push({ dir: path.dirname(file), manifest });
    }
  }
  return found.sort((a, b) => a.manifest.name.localeCompare(b.manifest.name));
}

/** Runtime facts one probe reports as JSON on stdout. */
interface RuntimeReport {
  node: string;
  requireModule: boolean | null;
  resolved: string;
  keys: string[];
  deps: Record<string, string>;
  smoke: Record<string, unknown>;
}

/** Package-specific smoke code, run identically against the CJS and the ESM build (`m`). */
const SMOKE: Record<string, string> = {
  '@wimse-auth/core': `
    smoke.SpiffeId = typeof m.SpiffeId;
    smoke.AuthenticationError = typeof m.AuthenticationError;
    smoke.trustDomain = m.SpiffeId.parse('spiffe://example.org/a').trustDomain.name;
    const err = new m.AuthenticationError('invalid_claims', 'bad claims');
    smoke.error = { name: err.name, code: err.code, status: err.status, isError: err instanceof Error,
      isWimse: m.isWimseError(err) };
  `,
};

/** TypeScript consumer body per package; must contain at least one @ts-expect-error so `any` types fail. */
const TS_CONSUMER: Record<string, string> = {
  '@wimse-auth/core': `
import { AuthenticationError, SpiffeId, isWimseError } from '@wimse-auth/core';
export const name: string = SpiffeId.parse('spiffe://example.org/a').trustDomain.name;
const err = new AuthenticationError('invalid_claims', 'bad claims');
export const status: 401 = err.status;
export const wimse: boolean = isWimseError(err);
// @ts-expect-error SpiffeId.parse only accepts strings; fails if the types degrade to any
SpiffeId.parse(42);
// @ts-expect-error 'not_a_code' is not an AuthenticationErrorCode
new AuthenticationError('not_a_code', 'x');
`,
};

function genericConsumer(name: string): string {
  return `import * as ns from '${name}';
export const keys: string[] = Object.keys(ns);
// @ts-expect-error a namespace import is not callable; fails if the types degrade to any
ns();
`;
}

function probeSource(format: 'cjs' | 'esm', name: string, deps: string[]): string {
  const load =
    format === 'cjs'
      ? `const m = require(${JSON.stringify(name)}); const resolved = require.resolve(${JSON.stringify(name)});`
      : `const m = await import(${JSON.stringify(name)}); const resolved = fileURLToPath(import.meta.resolve(${JSON.stringify(name)}));`;
  const header =
    format === 'cjs'
      ? `const { createRequire } = require('node:module');`
      : `import { createRequire } from 'node:module'; import { fileURLToPath } from 'node:url';`;
  const body = `
    ${load}
    const smoke = {};
    ${SMOKE[name] ?? ''}
    // Every runtime dependency must load with require() from inside the package. jose is
    // ESM-only, so for it this is Node's require(esm) (unflagged in 20.19+/22.12+).
    const deps = {};
    const requireFromPkg = createRequire(resolved);
    for (const dep of ${JSON.stringify(deps)}) {
      try { requireFromPkg(dep); deps[dep] = 'ok'; } catch (e) { deps[dep] = String(e && e.code || e); }
    }
    console.log(JSON.stringify({ node: process.version, requireModule: process.features.require_module ?? null,
      resolved, keys: Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort(), deps, smoke }));
  `;
  return format === 'cjs' ? `${header}\n(async () => {${body}})();` : `${header}\n${body}`;
}

/** Runs `node <file>` in `cwd` and parses the single JSON line it prints. */
async function runNode(cwd: string, file: string): Promise<unknown> {
  const env = { ...process.env };
  delete env.NODE_OPTIONS; // no loaders/hooks from the test runner leak into the probe
  try {
    const { stdout } = await run(process.execPath, [file], { cwd, env, timeout: SUBPROCESS_TIMEOUT });
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
  } catch (error) {
    const e = error as { message: string; stdout?: string; stderr?: string };
    throw new Error(`${file} failed: ${e.message}\nstdout:\n${e.stdout ?? ''}\nstderr:\n${e.stderr ?? ''}`);
  }
}

/** Runs tsc in `cwd`; resolves with its exit status and combined output (tsc prints diagnostics on stdout). */
async function runTsc(cwd: string, args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [TSC, ...args], {
      cwd,
      timeout: SUBPROCESS_TIMEOUT,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string; message: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function findInstalled(dep: string, pkgDir: string): string {
  for (const base of [path.join(pkgDir, 'node_modules'), path.join(ROOT, 'node_modules')]) {
    const candidate = path.join(base, dep);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
  }
  throw new Error(`dependency ${dep} is not installed (run npm ci)`);
}

function linkInto(nodeModules: string, name: string, target: string): void {
  const dest = path.join(nodeModules, name);
  mkdirSync(path.dirname(dest), { recursive: true });
  symlinkSync(target, dest, 'dir');
}

/** Types entry TypeScript should pick for `condition` ('import' | 'require') of the root export. */
function expectedTypes(manifest: Manifest, condition: 'import' | 'require'): string | undefined {
  const root = manifest.exports?.['.'];
  if (root && typeof root === 'object') {
    const branch = (root as Record<string, unknown>)[condition];
    if (branch && typeof branch === 'object') {
      const types = (branch as Record<string, unknown>).types;
      if (typeof types === 'string') return types;
    }
  }
  return manifest.types;
}

const packages = workspacePackages();

it('finds at least one publishable workspace package', () => {
  expect(packages.map((p) => p.manifest.name)).toContain('@wimse-auth/core');
});

describe.each(packages)('$manifest.name', ({ dir, manifest }) => {
  const name = manifest.name;
  const deps = Object.keys(manifest.dependencies ?? {});
  let work = '';
  let installed = '';

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'wimse-dual-format-'));
    expect(path.relative(ROOT, work).startsWith('..'), 'temp consumer must live outside the repo').toBe(true);
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], {
      cwd: dir,
      timeout: SUBPROCESS_TIMEOUT,
    });
    const [info] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    if (!info) throw new Error(`npm pack printed nothing for ${name}`);
    if (!info.files.some((f) => f.path.startsWith('dist/'))) {
      throw new Error(`${name}: the tarball has no dist/ files; run \`npm run build\` first`);
    }
    await run('tar', ['-xzf', path.join(work, info.filename), '-C', work], { timeout: SUBPROCESS_TIMEOUT });
    const nodeModules = path.join(work, 'node_modules');
    installed = path.join(nodeModules, name);
    mkdirSync(path.dirname(installed), { recursive: true });
    await run('mv', [path.join(work, 'package'), installed]);
    for (const dep of deps) linkInto(nodeModules, dep, findInstalled(dep, dir));
    linkInto(nodeModules, '@types/node', findInstalled('@types/node', dir));
    // A consumer installs the peers (express, passport…) and, with TypeScript, their types.
    const peers = Object.keys(manifest.peerDependencies ?? {});
    const withTypes = peers.flatMap((peer) => [
      peer,
      `@types/${peer.startsWith('@') ? peer.slice(1).replace('/', '__') : peer}`,
    ]);
    for (const dep of new Set(withTypes)) {
      if (!deps.includes(dep) && existsSync(path.join(ROOT, 'node_modules', dep, 'package.json'))) {
        linkInto(nodeModules, dep, findInstalled(dep, dir));
      }
    }
    writeFileSync(path.join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    writeFileSync(path.join(work, 'probe.cjs'), probeSource('cjs', name, deps));
    writeFileSync(path.join(work, 'probe.mjs'), probeSource('esm', name, deps));
  }, TIMEOUT);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const expectCommon = (report: RuntimeReport, entry: string) => {
    expect(report.node).toBe(process.version);
    expect(report.resolved).toBe(path.join(installed, entry));
    expect(report.keys.length).toBeGreaterThan(0);
    expect(report.deps).toEqual(Object.fromEntries(deps.map((d) => [d, 'ok'])));
    if (name === '@wimse-auth/core') {
      expect(report.requireModule, 'require(esm) must be available: jose is ESM-only').toBe(true);
      expect(report.smoke).toEqual({
        SpiffeId: 'function',
        AuthenticationError: 'function',
        trustDomain: 'example.org',
        error: {
          name: 'AuthenticationError',
          code: 'invalid_claims',
          status: 401,
          isError: true,
          isWimse: true,
        },
      });
    }
  };

  let cjsKeys: string[] = [];
  let esmKeys: string[] = [];

  it(
    "(a) require() loads the CJS build through the exports map's require condition",
    async () => {
      const report = (await runNode(work, 'probe.cjs')) as RuntimeReport;
      expectCommon(report, expectedEntry(manifest, 'require'));
      cjsKeys = report.keys;
    },
    TIMEOUT,
  );

  it(
    "(b) import() loads the ESM build through the exports map's import condition",
    async () => {
      const report = (await runNode(work, 'probe.mjs')) as RuntimeReport;
      expectCommon(report, expectedEntry(manifest, 'import'));
      esmKeys = report.keys;
    },
    TIMEOUT,
  );

  it('(a+b) both builds expose the same named exports', () => {
    expect(cjsKeys.length).toBeGreaterThan(0);
    expect(cjsKeys).toEqual(esmKeys);
  });

  // Dual package hazard. require() and import() of the same specifier load two different
  // files (dist/index.cjs and dist/index.js), so a process that mixes them holds two copies of
  // every class: instanceof only works within one copy, and isWimseError() (an instanceof
  // check) does not recognise errors from the other copy. This test pins that behaviour down so
  // that a change to it (e.g. a CJS wrapper re-exporting the ESM build via require(esm), or
  // Symbol.hasInstance brands) is noticed. The ESM-only jose has no such split: require(esm)
  // and import() share one module instance.
  // Registered for the core only (the classes live there), rather than skipped elsewhere.
  if (name === '@wimse-auth/core') {
    it(
      '(c) instanceof across the CJS and ESM builds (dual package hazard, documented)',
      async () => {
        writeFileSync(
          path.join(work, 'hazard.mjs'),
          `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const cjs = require('@wimse-auth/core');
const esm = await import('@wimse-auth/core');
const joseFromCjs = createRequire(require.resolve('@wimse-auth/core'))('jose');
const joseFromEsm = await import(createRequire(require.resolve('@wimse-auth/core')).resolve('jose'));
const fromCjs = new cjs.AuthenticationError('invalid_claims', 'x');
const fromEsm = new esm.AuthenticationError('invalid_claims', 'x');
const idCjs = cjs.SpiffeId.parse('spiffe://example.org/a');
const idEsm = esm.SpiffeId.parse('spiffe://example.org/a');
console.log(JSON.stringify({
  sameClass: cjs.AuthenticationError === esm.AuthenticationError,
  cjsErrorIsCjs: fromCjs instanceof cjs.AuthenticationError,
  esmErrorIsEsm: fromEsm instanceof esm.AuthenticationError,
  cjsErrorIsEsm: fromCjs instanceof esm.AuthenticationError,
  esmErrorIsCjs: fromEsm instanceof cjs.AuthenticationError,
  bothAreErrors: fromCjs instanceof Error && fromEsm instanceof Error,
  esmIsWimseErrorOfCjs: esm.isWimseError(fromCjs),
  cjsIsWimseErrorOfEsm: cjs.isWimseError(fromEsm),
  duckTypedCodesMatch: fromCjs.code === fromEsm.code && fromCjs.name === fromEsm.name,
  spiffeIdCrossInstanceof: idCjs instanceof esm.SpiffeId || idEsm instanceof cjs.SpiffeId,
  spiffeIdToStringMatch: String(idCjs) === String(idEsm),
  joseSingleInstance: joseFromCjs === joseFromEsm,
}));
`,
        );
        const report = await runNode(work, 'hazard.mjs');
        expect(report).toEqual({
          sameClass: false,
          cjsErrorIsCjs: true,
          esmErrorIsEsm: true,
          cjsErrorIsEsm: false,
          esmErrorIsCjs: false,
          bothAreErrors: true,
          // isWimseError recognises the other copy's errors by a registry-symbol brand.
          esmIsWimseErrorOfCjs: true,
          cjsIsWimseErrorOfEsm: true,
          duckTypedCodesMatch: true,
          spiffeIdCrossInstanceof: false,
          spiffeIdToStringMatch: true,
          joseSingleInstance: true,
        });
      },
      TIMEOUT,
    );
  }

  // (d) TypeScript consumers against the shipped .d.ts/.d.cts, with module node16 (what the
  //     brief requires) and nodenext. No diagnostic is tolerated: the public types must not
  //     import an ESM-only package (jose), which node16 would reject in a .d.cts (TS1479).
  const tscCases = [
    { module: 'node16', kind: 'cjs', file: 'consumer.cts', condition: 'require' },
    { module: 'node16', kind: 'esm', file: 'consumer.mts', condition: 'import' },
    { module: 'nodenext', kind: 'cjs', file: 'consumer.cts', condition: 'require' },
    { module: 'nodenext', kind: 'esm', file: 'consumer.mts', condition: 'import' },
  ] as const;

  it.each(tscCases)(
    '(d) a TypeScript $kind consumer ($file) type-checks with module $module',
    async ({ module, file, condition }) => {
      writeFileSync(path.join(work, file), TS_CONSUMER[name] ?? genericConsumer(name));
      const { code, output } = await runTsc(work, [
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
        module,
        '--moduleResolution',
        module,
        '--listFiles',
        file,
      ]);
      const lines = output.split('\n').map((l) => l.trim());
      const diagnostics = lines.filter((l) => /\berror TS\d+:/.test(l));
      const report = lines.filter((l) => l !== '' && !l.startsWith('/')).join('\n'); // drop --listFiles noise
      expect(diagnostics, report).toEqual([]);
      expect(code).toBe(0);
      const types = expectedTypes(manifest, condition);
      expect(types, `${name} declares no types for the ${condition} condition`).toBeTruthy();
      const typesFile = path.join(work, 'node_modules', name, types ?? '');
      expect(lines, `tsc did not resolve ${name} to ${types}`).toContain(typesFile);
    },
    TIMEOUT,
  );
});

/** Runtime file Node should pick for `condition` of the root export. */
function expectedEntry(manifest: Manifest, condition: 'import' | 'require'): string {
  const root = manifest.exports?.['.'];
  if (root && typeof root === 'object') {
    const branch = (root as Record<string, unknown>)[condition];
    if (typeof branch === 'string') return branch;
    if (branch && typeof branch === 'object') {
      const target = (branch as Record<string, unknown>).node ?? (branch as Record<string, unknown>).default;
      if (typeof target === 'string') return target;
    }
  }
  throw new Error(`${manifest.name}: exports["."] has no plain "${condition}" target`);
}
