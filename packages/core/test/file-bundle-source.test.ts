import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TrustUnavailableError } from '../src/errors/errors.js';
import { TrustDomain } from '../src/identifiers/spiffe-id.js';
import { FileBundleSource } from '../src/trust/file-bundle-source.js';
import type { JwtBundle } from '../src/trust/jwt-bundle.js';

const EXAMPLE = TrustDomain.parse('example.org');
const OTHER = TrustDomain.parse('other.org');
const WAIT_MS = 5000;

let keyA: JWK;
let keyB: JWK;
let directory: string;
const sources: FileBundleSource[] = [];

beforeAll(async () => {
  keyA = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
  keyB = await exportJWK((await generateKeyPair('ES256', { extractable: true })).publicKey);
});

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'wimse-bundles-'));
});

afterEach(async () => {
  await Promise.all(sources.splice(0).map((source) => source.close()));
  await rm(directory, { recursive: true, force: true });
});

function spiffeBundle(kid: string, key: JWK = keyA): string {
  return JSON.stringify({ spiffe_sequence: 1, keys: [{ ...key, kid, use: 'jwt-svid' }] });
}

// Replaces the file the way agents do: write a temporary file, then rename it over the old one.
async function replaceAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.tmp-${process.hrtime.bigint()}`;
  await writeFile(temporary, content);
  await rename(temporary, path);
}

async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function track(source: FileBundleSource): FileBundleSource {
  sources.push(source);
  return source;
}

async function bundleOf(source: FileBundleSource, trustDomain = EXAMPLE): Promise<JwtBundle | undefined> {
  return await source.getBundle(trustDomain);
}

describe('FileBundleSource', () => {
  it('loads bundles on start and keeps returning the same object', async () => {
    const path = join(directory, 'bundle.json');
    await writeFile(path, spiffeBundle('a'));
    const updates: string[] = [];
    const source = track(
      new FileBundleSource({
        files: [{ trustDomain: 'example.org', path }],
        onUpdate: (td) => updates.push(td.name),
      }),
    );
    // getBundle before ready waits for the first load.
    const early = await source.getBundle(EXAMPLE);
    await source.ready;
    const bundle = source.getBundle(EXAMPLE);
    expect(bundle).toBe(early);
    expect((bundle as JwtBundle).getKey('a')?.use).toBe('jwt-svid');
    expect((bundle as JwtBundle).sequence).toBe(1n);
    expect(source.getBundle(EXAMPLE)).toBe(bundle);
    expect(source.getBundle(OTHER)).toBeUndefined();
    expect(updates).toEqual(['example.org']);
  });

  it('auto-detects plain JWK Sets', async () => {
    const path = join(directory, 'jwks.json');
    await writeFile(path, JSON.stringify({ keys: [{ ...keyA, kid: 'plain' }] }));
    const source = track(new FileBundleSource({ files: [{ trustDomain: 'spiffe://example.org', path }] }));
    const bundle = await bundleOf(source);
    expect(bundle?.getKey('plain')?.use).toBeUndefined();
    expect(bundle?.keysFor('jwt-svid', true).map((key) => key.kid)).toEqual(['plain']);
  });

  it('picks up an atomic rename-replace through the directory watch', async () => {
    const path = join(directory, 'bundle.json');
    await writeFile(path, spiffeBundle('a'));
    const updated: string[] = [];
    // A poll interval far beyond the wait proves the watch, not polling, saw the change.
    const source = track(
      new FileBundleSource({
        files: [{ trustDomain: 'example.org', path }],
        pollIntervalMs: 600_000,
        onUpdate: (td) => updated.push(td.name),
      }),
    );
    const before = await bundleOf(source);
    await replaceAtomically(path, spiffeBundle('b', keyB));
    const after = await eventually(async () => {
      const current = await bundleOf(source);
      return current !== before ? current : undefined;
    });
    expect(after?.getKey('b')).toBeDefined();
    expect(after?.getKey('a')).toBeUndefined();
    expect(updated).toEqual(['example.org', 'example.org']);
  });

  it('notices changes by polling', async () => {
    const path = join(directory, 'bundle.json');
    await writeFile(path, spiffeBundle('a'));
    const source = track(
      new FileBundleSource({ files: [{ trustDomain: 'example.org', path }], pollIntervalMs: 20 }),
    );
    const before = await bundleOf(source);
    await writeFile(path, spiffeBundle('b', keyB));
    const after = await eventually(async () =>
      (await bundleOf(source)) !== before ? bundleOf(source) : undefined,
    );
    expect(after?.getKey('b')).toBeDefined();
  });

  it('keeps the same bundle object when the content is rewritten unchanged', async () => {
    const path = join(directory, 'bundle.json');
    await writeFile(path, spiffeBundle('a'));
    const updates: string[] = [];
    const source = track(
      new FileBundleSource({
        files: [{ trustDomain: 'example.org', path }],
        pollIntervalMs: 20,
        onUpdate: (td) => updates.push(td.name),
      }),
    );
    const before = await bundleOf(source);
    // Same keys, different formatting: still the same bundle, and no update.
    await replaceAtomically(path, JSON.stringify(JSON.parse(spiffeBundle('a')), null, 2));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await bundleOf(source)).toBe(before);
    expect(updates).toEqual(['example.org']);
    // A real change still gets through, and is the only further update.
    await replaceAtomically(path, spiffeBundle('b', keyB));
    await eventually(async () => (await bundleOf(source))?.getKey('b'));
    expect(updates).toEqual(['example.org', 'example.org']);
  });

  it('keeps the last good bundle and reports an error when a rewrite is corrupt', async () => {
    const path = join(directory, 'bundle.json');
    await writeFile(path, spiffeBundle('a'));
    const errors: Array<[Error, string]> = [];
    const source = track(
      new FileBundleSource({
        files: [{ trustDomain: 'example.org', path }],
        pollIntervalMs: 20,
        onError: (error, file) => errors.push([error, file]),
      }),
    );
    const before = await bundleOf(source);
    await replaceAtomically(path, '{"keys": [');
    await eventually(() => (errors.length > 0 ? true : undefined));
    expect(errors[0]?.[0].name).toBe('InvalidBundleError');
    expect(errors[0]?.[1]).toBe(path);
    expect(await bundleOf(source)).toBe(before);

    // A duplicate member is corrupt too (strict parsing).
    await replaceAtomically(
      path,
      `{"keys":[],"keys":${JSON.stringify([{ ...keyB, kid: 'b', use: 'jwt-svid' }])}}`,
    );
    await eventually(() => (errors.length > 1 ? true : undefined));
    expect(await bundleOf(source)).toBe(before);

    // Recovery: a good rewrite is picked up again.
    await replaceAtomically(path, spiffeBundle('c', keyB));
    const recovered = await eventually(async () => (await bundleOf(source))?.getKey('c'));
    expect(recovered.kid).toBe('c');
  });

  it('fails closed with TrustUnavailableError while a file has never loaded', async () => {
    const path = join(directory, 'missing.json');
    const errors: Error[] = [];
    const source = track(
      new FileBundleSource({
        files: [{ trustDomain: 'example.org', path }],
        pollIntervalMs: 20,
        onError: (error) => errors.push(error),
      }),
    );
    await source.ready;
    let thrown: unknown;
    try {
      await source.getBundle(EXAMPLE);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TrustUnavailableError);
    expect((thrown as TrustUnavailableError).code).toBe('trust_unavailable');
    expect((thrown as TrustUnavailableError).status).toBe(503);
    // An unconfigured trust domain is untrusted, not unavailable.
    expect(source.getBundle(OTHER)).toBeUndefined();
    // Polling does not report the same missing file again and again.
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(errors).toHaveLength(1);

    // Once the file appears, the trust domain becomes available.
    await replaceAtomically(path, spiffeBundle('a'));
    const bundle = await eventually(async () => {
      try {
        return await bundleOf(source);
      } catch {
        return undefined;
      }
    });
    expect(bundle.getKey('a')).toBeDefined();
  });

  it('treats a corrupt initial file as unavailable', async () => {
    const path = join(directory, 'bundle.json');
    await writeFile(path, 'not json');
    const source = track(
      new FileBundleSource({ files: [{ trustDomain: 'example.org', path }], onError: () => {} }),
    );
    await source.ready;
    expect(() => source.getBundle(EXAMPLE)).toThrow(TrustUnavailableError);
  });

  it('serves a bundle map and drops trust domains removed from it', async () => {
    const path = join(directory, 'bundles.json');
    const map = (domains: Record<string, string>): string =>
      `{"trust_domains":{${Object.entries(domains)
        .map(([name, bundle]) => `${JSON.stringify(name)}:${bundle}`)
        .join(',')}}}`;
    await writeFile(path, map({ 'example.org': spiffeBundle('a'), 'other.org': spiffeBundle('o', keyB) }));
    const updates: string[] = [];
    const source = track(
      new FileBundleSource({
        bundleMapPath: path,
        pollIntervalMs: 20,
        onUpdate: (td) => updates.push(td.name),
      }),
    );
    const example = await bundleOf(source, EXAMPLE);
    expect((await bundleOf(source, OTHER))?.getKey('o')).toBeDefined();
    expect(source.getBundle(TrustDomain.parse('third.org'))).toBeUndefined();

    await replaceAtomically(path, map({ 'example.org': spiffeBundle('a') }));
    await eventually(() => (source.getBundle(OTHER) === undefined ? true : undefined));
    // The unchanged trust domain keeps its bundle object.
    expect(source.getBundle(EXAMPLE)).toBe(example);
    expect(updates.sort()).toEqual(['example.org', 'other.org', 'other.org']);
  });

  it('makes every trust domain unavailable while a bundle map has never loaded', async () => {
    const source = track(
      new FileBundleSource({ bundleMapPath: join(directory, 'none.json'), onError: () => {} }),
    );
    await source.ready;
    expect(() => source.getBundle(EXAMPLE)).toThrow(TrustUnavailableError);
  });

  it('stops watching after close', async () => {
    const path = join(directory, 'bundle.json');
    await writeFile(path, spiffeBundle('a'));
    const updates: string[] = [];
    const source = new FileBundleSource({
      files: [{ trustDomain: 'example.org', path }],
      pollIntervalMs: 20,
      onUpdate: (td) => updates.push(td.name),
    });
    const before = await bundleOf(source);
    await source.close();
    await replaceAtomically(path, spiffeBundle('b', keyB));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await bundleOf(source)).toBe(before);
    expect(updates).toEqual(['example.org']);
  });

  it('supports await using', async () => {
    const path = join(directory, 'bundle.json');
    await writeFile(path, spiffeBundle('a'));
    const source = new FileBundleSource({ files: [{ trustDomain: 'example.org', path }] });
    await source.ready;
    await source[Symbol.asyncDispose]();
  });

  it('rejects invalid options', () => {
    const path = join(directory, 'bundle.json');
    expect(() => new FileBundleSource({ files: [] })).toThrow(TypeError);
    expect(
      () =>
        new FileBundleSource({
          files: [
            { trustDomain: 'example.org', path },
            { trustDomain: 'spiffe://example.org', path },
          ],
        }),
    ).toThrow(TypeError);
    expect(
      () => new FileBundleSource({ files: [{ trustDomain: 'example.org', path }], pollIntervalMs: 0 }),
    ).toThrow(RangeError);
  });
});
