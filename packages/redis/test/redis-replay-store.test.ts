// RedisReplayStore over a real Redis (WIMSE_REDIS_URL, or a redis-server child started here),
// with both client libraries, configured the way the README recommends.
import { randomBytes } from 'node:crypto';
import { createAuthenticator, TrustUnavailableError } from '@wimse-auth/core';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, testRedis } from '../../../test/scale/redis-server.js';
import { createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { type RedisClientLike, RedisReplayStore, redisReplayStore } from '../src/index.js';

const redis = await testRedis();
const URL_ = redis?.url ?? 'redis://127.0.0.1:1';

/** ioredis as the README recommends: no offline queue, at most one retry per command. */
async function ioredisClient(url = URL_): Promise<Redis> {
  const client = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** node-redis as the README recommends: no offline queue, error listener attached. */
async function nodeRedisClient(url = URL_) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: 1000,
      reconnectStrategy: (retries: number) => Math.min(50 * (retries + 1), 500),
    },
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Drops a client without waiting on Redis (ioredis `disconnect`, node-redis `destroy`). */
type Closable = RedisClientLike & { disconnect?: () => unknown; destroy?: () => unknown };
const opened: Closable[] = [];
const clients: Record<string, RedisClientLike> = {};
let admin: Redis | undefined;

beforeAll(async () => {
  if (!redis) return;
  clients.ioredis = await ioredisClient();
  clients['node-redis'] = await nodeRedisClient();
  opened.push(...(Object.values(clients) as Closable[]));
  admin = await ioredisClient();
  opened.push(admin);
});

afterAll(async () => {
  for (const client of opened) {
    if (typeof client.destroy === 'function') client.destroy();
    else client.disconnect?.();
  }
  await redis?.close();
});

/**
 * Makes Redis slow for one client only: a blocking BLPOP on its connection holds every later
 * command of that connection (without CLIENT PAUSE, which would stall other test files sharing
 * the CI Redis). The returned function releases it.
 */
async function stall(kind: string): Promise<() => Promise<void>> {
  const key = `stall:${randomBytes(6).toString('hex')}`;
  const client = clients[kind] as unknown as {
    blpop?: (key: string, timeout: number) => Promise<unknown>;
    blPop?: (key: string, timeout: number) => Promise<unknown>;
  };
  const blocked = (kind === 'ioredis' ? client.blpop?.(key, 5) : client.blPop?.(key, 5)) ?? Promise.resolve();
  blocked.catch(() => {});
  return async () => {
    await admin!.lpush(key, 'release');
    await blocked;
  };
}

const newKey = () => randomBytes(32).toString('base64url').slice(0, 43);
const prefix = () => `test:${randomBytes(6).toString('hex')}:`;
const soon = (ms = 60_000) => Date.now() + ms;

describe.skipIf(!redis)('construction', () => {
  it('detects each client library', () => {
    expect(redisReplayStore({ client: clients.ioredis!, keyPrefix: 'p:' }).clientKind).toBe('ioredis');
    expect(redisReplayStore({ client: clients['node-redis']!, keyPrefix: 'p:' }).clientKind).toBe(
      'node-redis',
    );
  });

  it('refuses what is not a client and bad options', () => {
    expect(() => redisReplayStore({ client: {} as RedisClientLike, keyPrefix: '' })).toThrow(TypeError);
    expect(() => redisReplayStore({ client: { set: () => null }, keyPrefix: '' })).toThrow(/neither/);
    const client = clients.ioredis!;
    expect(() => redisReplayStore({ client, keyPrefix: 'x'.repeat(257) })).toThrow(TypeError);
    expect(() => redisReplayStore({ client, keyPrefix: '', timeoutMs: 0 })).toThrow(TypeError);
    expect(() =>
      redisReplayStore({ client, keyPrefix: '', onUnavailable: 'open' as unknown as 'allow' }),
    ).toThrow(TypeError);
  });

  it('keeps keys bounded: prefix + the authenticator key, or a hash of anything else', () => {
    const store = new RedisReplayStore({ client: clients.ioredis!, keyPrefix: 'svc:' });
    const key = newKey();
    expect(store.redisKey(key)).toBe(`svc:${key}`);
    expect(store.redisKey('x'.repeat(10_000))).toMatch(/^svc:[A-Za-z0-9_-]{43}$/);
    expect(store.redisKey('a b')).toMatch(/^svc:[A-Za-z0-9_-]{43}$/);
    expect(store.redisKey('a b')).not.toBe(store.redisKey('a  b'));
  });
});

describe.skipIf(!redis).each(['ioredis', 'node-redis'])('with %s', (kind) => {
  const store = (options: { timeoutMs?: number; onUnavailable?: 'allow' | 'reject' } = {}) =>
    redisReplayStore({ client: clients[kind]!, keyPrefix: prefix(), ...options });

  it('first use is true, second false; one SET NX PXAT, expiry stored', async () => {
    const s = store();
    const key = newKey();
    const expiresAt = soon();
    expect(await s.checkAndRemember(key, expiresAt)).toBe(true);
    expect(await s.checkAndRemember(key, expiresAt)).toBe(false);
    expect(await s.checkAndRemember(key, soon(120_000))).toBe(false);
    const pexpireTime = await admin!.call('PEXPIRETIME', s.redisKey(key));
    expect(pexpireTime).toBe(Math.ceil(expiresAt));
  });

  it('honours expiry: an expiry in the past is not remembered; a short one lapses', async () => {
    const s = store();
    const past = newKey();
    expect(await s.checkAndRemember(past, Date.now() - 1000)).toBe(true);
    expect(await s.checkAndRemember(past, Date.now() - 1000)).toBe(true);
    const short = newKey();
    expect(await s.checkAndRemember(short, Date.now() + 150)).toBe(true);
    expect(await s.checkAndRemember(short, Date.now() + 150)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await s.checkAndRemember(short, soon())).toBe(true);
  });

  it('distinct keys (callers) and distinct prefixes (services) do not collide', async () => {
    const s = store();
    const a = newKey();
    const b = newKey();
    expect(await s.checkAndRemember(a, soon())).toBe(true);
    expect(await s.checkAndRemember(b, soon())).toBe(true);
    expect(await store().checkAndRemember(a, soon())).toBe(true);
    expect(await s.checkAndRemember(a, soon())).toBe(false);
  });

  it('20 concurrent checks of one key: exactly one true', async () => {
    const s = store();
    const key = newKey();
    const results = await Promise.all(Array.from({ length: 20 }, () => s.checkAndRemember(key, soon())));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('Redis slower than timeoutMs: TrustUnavailableError, promptly (no hang)', async () => {
    const s = store({ timeoutMs: 100 });
    const release = await stall(kind);
    try {
      const started = Date.now();
      await expect(s.checkAndRemember(newKey(), soon())).rejects.toBeInstanceOf(TrustUnavailableError);
      expect(Date.now() - started).toBeLessThan(1000);
      const allow = store({ timeoutMs: 100, onUnavailable: 'allow' });
      expect(await allow.checkAndRemember(newKey(), soon())).toBe(true);
    } finally {
      await release();
    }
    expect(await s.checkAndRemember(newKey(), soon())).toBe(true);
  });
});

describe.skipIf(!redis)('unreachable Redis', () => {
  it('ioredis with the offline queue off: TrustUnavailableError at once; allow → true', async () => {
    const port = await freePort();
    const client = new Redis(`redis://127.0.0.1:${port}`, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => 200,
    });
    client.on('error', () => {});
    opened.push(client);
    client.connect().catch(() => {});
    const reject = redisReplayStore({ client, keyPrefix: 'u:' });
    await expect(reject.checkAndRemember(newKey(), soon())).rejects.toBeInstanceOf(TrustUnavailableError);
    const allow = redisReplayStore({ client, keyPrefix: 'u:', onUnavailable: 'allow' });
    expect(await allow.checkAndRemember(newKey(), soon())).toBe(true);
  });

  it('ioredis with its default offline queue still never hangs: the timeout fires', async () => {
    const port = await freePort();
    const client = new Redis(`redis://127.0.0.1:${port}`, { retryStrategy: () => 200 });
    client.on('error', () => {});
    opened.push(client);
    const s = redisReplayStore({ client, keyPrefix: 'u:', timeoutMs: 150 });
    const started = Date.now();
    await expect(s.checkAndRemember(newKey(), soon())).rejects.toBeInstanceOf(TrustUnavailableError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('node-redis that lost its connection: TrustUnavailableError; allow → true', async () => {
    const port = await freePort();
    const client = createClient({
      url: `redis://127.0.0.1:${port}`,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => 200 },
    });
    client.on('error', () => {});
    opened.push(client as unknown as Closable);
    client.connect().catch(() => {});
    const reject = redisReplayStore({ client, keyPrefix: 'u:' });
    await expect(reject.checkAndRemember(newKey(), soon())).rejects.toBeInstanceOf(TrustUnavailableError);
    const allow = redisReplayStore({ client, keyPrefix: 'u:', onUnavailable: 'allow' });
    expect(await allow.checkAndRemember(newKey(), soon())).toBe(true);
  });

  it('a client that throws synchronously or answers oddly fails closed', async () => {
    const throwing = Object.assign(
      {
        set: () => {
          throw new Error('boom');
        },
      },
      { status: 'ready', call: () => null },
    );
    await expect(
      redisReplayStore({ client: throwing, keyPrefix: '' }).checkAndRemember(newKey(), soon()),
    ).rejects.toBeInstanceOf(TrustUnavailableError);
    const odd = { set: async () => 42, status: 'ready', call: () => null };
    await expect(
      redisReplayStore({ client: odd, keyPrefix: '' }).checkAndRemember(newKey(), soon()),
    ).rejects.toBeInstanceOf(TrustUnavailableError);
  });
});

describe.skipIf(!redis).each(['ioredis', 'node-redis'])('authenticator with %s', (kind) => {
  it('rejects a replayed proof with replay_detected, across two authenticators', async () => {
    const td = createTestTrustDomain();
    const keyPrefix = prefix();
    const make = () =>
      createAuthenticator({
        trust: td.trust,
        audience: { origins: ['https://orders.example.org'] },
        replayStore: redisReplayStore({ client: clients[kind]!, keyPrefix }),
      });
    const [a, b] = [make(), make()];
    const request = {
      method: 'GET',
      url: '/orders',
      headers: td.proofHeaders('https://orders.example.org/orders'),
    };
    expect((await a.authenticate(request)).credential).toBe('wpt');
    await expect(b.authenticate(request)).rejects.toMatchObject({ code: 'replay_detected', status: 401 });
    await expect(a.authenticate(request)).rejects.toMatchObject({ code: 'replay_detected', status: 401 });
  });

  it('turns an unavailable Redis into 503 trust_unavailable', async () => {
    const td = createTestTrustDomain();
    const paused = createAuthenticator({
      trust: td.trust,
      audience: { origins: ['https://orders.example.org'] },
      replayStore: redisReplayStore({ client: clients[kind]!, keyPrefix: prefix(), timeoutMs: 100 }),
    });
    const release = await stall(kind);
    try {
      const request = { url: '/orders', headers: td.proofHeaders('https://orders.example.org/orders') };
      await expect(paused.authenticate(request)).rejects.toMatchObject({
        code: 'trust_unavailable',
        status: 503,
      });
    } finally {
      await release();
    }
  });
});
