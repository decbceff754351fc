import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestTrustDomain } from '../../testing/src/index.js';
import { type FileTokenProvider, fileTokenProvider, jwtSvidFetch } from '../src/index.js';
import { startServer, type TestServer } from './support/server.js';

let dir = '';
let provider: FileTokenProvider | undefined;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'wimse-client-token-'));
});
afterEach(() => provider?.close());
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Calls `provider` until it returns `expected` or 3 s pass. */
async function eventually(read: () => Promise<string>, expected: string): Promise<string> {
  const deadline = Date.now() + 3000;
  let value = await read();
  while (value !== expected && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    value = await read();
  }
  return value;
}

describe('fileTokenProvider', () => {
  it('reads the file trimmed, and picks up in-place and atomic rewrites', async () => {
    const file = path.join(dir, 'token');
    writeFileSync(file, '  first-token\n');
    provider = fileTokenProvider(file);
    expect(await provider()).toBe('first-token');
    expect(await provider()).toBe('first-token');

    writeFileSync(file, 'other-token\n'); // same length: the watch (or mtime) must notice
    expect(await eventually(provider, 'other-token')).toBe('other-token');

    const temp = path.join(dir, '.token.tmp');
    writeFileSync(temp, 'third-token');
    renameSync(temp, file); // atomic replacement, new inode
    expect(await eventually(provider, 'third-token')).toBe('third-token');
  });

  it('works without the watch, by stat alone', async () => {
    const file = path.join(dir, 'nowatch');
    writeFileSync(file, 'aaaa');
    provider = fileTokenProvider(file, { watch: false });
    expect(await provider()).toBe('aaaa');
    writeFileSync(file, 'bbbbbb');
    expect(await eventually(provider, 'bbbbbb')).toBe('bbbbbb');
  });

  it('rejects an empty or missing file without echoing content', async () => {
    const file = path.join(dir, 'empty');
    writeFileSync(file, ' \n');
    provider = fileTokenProvider(file);
    await expect(provider()).rejects.toThrow(/is empty/);
    await expect(fileTokenProvider(path.join(dir, 'missing'), { watch: false })()).rejects.toThrow(/ENOENT/);
  });

  describe('as the JWT-SVID of a fetch (the push model)', () => {
    const td = createTestTrustDomain('example.org');
    let server: TestServer;
    beforeAll(async () => {
      server = await startServer({ trust: td.bundleSource });
    });
    afterAll(() => server.close());

    it('sends the rewritten SVID once it changes', async () => {
      const file = path.join(dir, 'svid.jwt');
      writeFileSync(file, td.issueJwtSvid({ sub: '/first', aud: server.origin }));
      provider = fileTokenProvider(file);
      const sfetch = jwtSvidFetch({ token: provider });
      const id = async () => ((await (await sfetch(`${server.origin}/`)).json()) as { id: string }).id;
      expect(await id()).toBe('spiffe://example.org/first');
      writeFileSync(file, td.issueJwtSvid({ sub: '/second', aud: server.origin }));
      expect(await eventually(id, 'spiffe://example.org/second')).toBe('spiffe://example.org/second');
    });
  });
});
