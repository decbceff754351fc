import { beforeEach, describe, expect, it, vi } from 'vitest';

const counters = vi.hoisted(() => ({ hashes: 0 }));

// Counting the hashes tells which path answered: the per-connection memo hashes nothing.
vi.mock('../src/util/base64url.js', async (importOriginal) => {
  const module = await importOriginal<typeof import('../src/util/base64url.js')>();
  return {
    ...module,
    sha256Key: (value: string) => {
      counters.hashes++;
      return module.sha256Key(value);
    },
  };
});

const { VerifiedTokenCache } = await import('../src/authenticator/verified-token-cache.js');

/** A token verified twice, which is when the cache takes it. */
function admitVerifiedTwice<Entry extends object>(
  cache: InstanceType<typeof VerifiedTokenCache<Entry>>,
  token: string,
  entry: Entry,
  connection?: object,
): void {
  expect(cache.admit(token, entry, connection)).toBe(false);
  expect(cache.admit(token, entry, connection)).toBe(true);
}

const TOKEN = `eyJhbGciOiJFUzI1NiJ9.${'a'.repeat(200)}.${'s'.repeat(86)}`;
/** The same length as TOKEN, differing in its last character only. */
const NEIGHBOUR = `${TOKEN.slice(0, -1)}t`;

describe('VerifiedTokenCache', () => {
  beforeEach(() => {
    counters.hashes = 0;
  });

  it('answers a connection repeating its last token without hashing it', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(10);
    const connection = {};
    const entry = { id: 1 };
    admitVerifiedTwice(cache, TOKEN, entry, connection);
    counters.hashes = 0;
    for (let i = 0; i < 3; i++) expect(cache.get(TOKEN, connection)).toBe(entry);
    expect(counters.hashes).toBe(0);
  });

  it('falls back to the hashed cache for any other token on that connection', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(10);
    const connection = {};
    const first = { id: 1 };
    const second = { id: 2 };
    admitVerifiedTwice(cache, TOKEN, first, connection);
    admitVerifiedTwice(cache, NEIGHBOUR, second);
    counters.hashes = 0;
    expect(cache.get(NEIGHBOUR, connection)).toBe(second);
    expect(counters.hashes).toBe(1);
    // The connection's last token is now NEIGHBOUR; TOKEN is still found through the hash.
    expect(cache.get(NEIGHBOUR, connection)).toBe(second);
    expect(cache.get(TOKEN, connection)).toBe(first);
    expect(counters.hashes).toBe(2);
    expect(cache.get(`${TOKEN}x`, connection)).toBeUndefined();
    expect(cache.get(TOKEN.slice(0, -1), connection)).toBeUndefined();
  });

  it('keeps connections apart', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(10);
    const a = {};
    const b = {};
    const entry = { id: 1 };
    admitVerifiedTwice(cache, TOKEN, entry, a);
    counters.hashes = 0;
    expect(cache.get(TOKEN, b)).toBe(entry);
    expect(counters.hashes).toBe(1);
    expect(cache.get(TOKEN, b)).toBe(entry);
    expect(counters.hashes).toBe(1);
    // b presenting another token does not change what a remembers.
    expect(cache.get(NEIGHBOUR, b)).toBeUndefined();
    expect(cache.get(TOKEN, a)).toBe(entry);
    expect(counters.hashes).toBe(2);
  });

  it('never matches a token with non-ASCII characters against a remembered one', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(10);
    const connection = {};
    admitVerifiedTwice(cache, TOKEN, { id: 1 }, connection);
    // 'ᡳ' (U+1873) written as latin1 would be 0x73, i.e. 's': the comparison must not be lossy.
    const lookalike = `${TOKEN.slice(0, -1)}\u1873`;
    expect(lookalike.length).toBe(TOKEN.length);
    expect(cache.get(lookalike, connection)).toBeUndefined();
    expect(cache.get(`${TOKEN.slice(0, -1)}\ud800`, connection)).toBeUndefined();
  });

  it('remembers non-ASCII and very long tokens in the hashed cache only', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(10);
    const connection = {};
    for (const token of ['tok\u00e9n', `${'a'.repeat(9000)}.b.c`]) {
      const entry = { id: token.length };
      admitVerifiedTwice(cache, token, entry, connection);
      counters.hashes = 0;
      expect(cache.get(token, connection)).toBe(entry);
      expect(cache.get(token, connection)).toBe(entry);
      expect(counters.hashes).toBe(2);
    }
  });

  it('caches nothing at size 0, per connection or not', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(0);
    const connection = {};
    for (let i = 0; i < 3; i++) expect(cache.admit(TOKEN, { id: 1 }, connection)).toBe(false);
    expect(cache.get(TOKEN, connection)).toBeUndefined();
    expect(cache.get(TOKEN)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it('ignores a connection that is not an object', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(10);
    const entry = { id: 1 };
    admitVerifiedTwice(cache, TOKEN, entry, 'socket-1' as never);
    expect(cache.get(TOKEN, 42 as never)).toBe(entry);
    expect(cache.get(TOKEN, null as never)).toBe(entry);
  });

  it('stays bounded by its size; the memo only adds one entry per open connection', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(2);
    const connection = {};
    const first = { id: 1 };
    admitVerifiedTwice(cache, TOKEN, first, connection);
    admitVerifiedTwice(cache, NEIGHBOUR, { id: 2 });
    admitVerifiedTwice(cache, `${TOKEN}x`, { id: 3 });
    expect(cache.size).toBe(2);
    expect(cache.get(TOKEN)).toBeUndefined();
    // Evicted from the bounded cache, still the connection's last token.
    expect(cache.get(TOKEN, connection)).toBe(first);
  });

  it('admits a token on its second verification, not its first', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(10);
    const connection = {};
    const entry = { id: 1 };
    expect(cache.admit(TOKEN, entry, connection)).toBe(false);
    expect(cache.get(TOKEN, connection)).toBeUndefined();
    expect(cache.get(TOKEN)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.admit(TOKEN, entry, connection)).toBe(true);
    expect(cache.get(TOKEN, connection)).toBe(entry);
    expect(cache.size).toBe(1);
  });

  it('does not let tokens sent once push out the ones that are reused', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(4);
    const reused = { id: 1 };
    admitVerifiedTwice(cache, TOKEN, reused);
    for (let i = 0; i < 1000; i++) expect(cache.admit(`${TOKEN}.${i}`, { id: i })).toBe(false);
    expect(cache.size).toBe(1);
    expect(cache.get(TOKEN)).toBe(reused);
  });

  it('keeps admitting after the seen-once table has been overwritten many times', () => {
    const cache = new VerifiedTokenCache<{ id: number }>(2);
    for (let i = 0; i < 5000; i++) cache.admit(`${NEIGHBOUR}.${i}`, { id: i });
    const entry = { id: -1 };
    admitVerifiedTwice(cache, TOKEN, entry);
    expect(cache.get(TOKEN)).toBe(entry);
  });

  it('rejects a size that is not a non-negative integer', () => {
    for (const size of [-1, 1.5, Number.NaN]) {
      expect(() => new VerifiedTokenCache(size)).toThrow(TypeError);
    }
  });
});
