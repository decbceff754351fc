import { createHash } from 'node:crypto';
import { type ReplayStore, TrustUnavailableError } from '@wimse-auth/core';

/**
 * What the store needs from a Redis client: a `set` method. Typed structurally so that this
 * package depends on neither client library; pass an `ioredis` `Redis`/`Cluster` or a
 * node-redis (v4+) client or cluster from `createClient()`/`createCluster()`.
 */
export interface RedisClientLike {
  set(...args: never[]): unknown;
}

/** How the store detected the client (see {@link RedisReplayStore.clientKind}). */
export type RedisClientKind = 'ioredis' | 'node-redis';

/** Options of {@link redisReplayStore}. */
export interface RedisReplayStoreOptions {
  /** An `ioredis` `Redis` or `Cluster`, or a node-redis v4+ client or cluster. Connected by you. */
  client: RedisClientLike;
  /**
   * Prepended to every key, e.g. `'orders:wimse:replay:'`. Give each audience (service) its own
   * prefix when they share one Redis. At most 256 characters.
   */
  keyPrefix: string;
  /**
   * Longest wait for Redis, in milliseconds, before the check fails (503, or `true` under
   * `onUnavailable: 'allow'`). Default 250.
   */
  timeoutMs?: number;
  /**
   * What to answer when Redis cannot be asked (unreachable, erroring, slower than
   * `timeoutMs`). `'reject'` (default): throw `TrustUnavailableError`, so the request fails
   * with 503 `trust_unavailable` — fail closed. `'allow'`: treat the proof as new (`true`),
   * which **turns replay protection off while Redis is down**: a captured proof can then be
   * replayed until it expires. Only for services that choose availability over that.
   */
  onUnavailable?: 'reject' | 'allow';
}

/** Keys the authenticator passes: base64url SHA-256 (43 characters). Anything else is hashed. */
const SAFE_KEY = /^[A-Za-z0-9_-]{1,64}$/;
const DEFAULT_TIMEOUT_MS = 250;
const MAX_PREFIX_LENGTH = 256;

type Send = (key: string, expiresAt: number) => Promise<unknown>;

/**
 * A {@link ReplayStore} shared by every replica through Redis (6.2 or later): one
 * `SET <prefix><key> 1 NX PXAT <expiresAt>` per check, which is atomic on the server, so of
 * two replicas racing on one proof exactly one sees it as new.
 */
export class RedisReplayStore implements ReplayStore {
  /** The client library the store detected. */
  readonly clientKind: RedisClientKind;
  readonly #send: Send;
  readonly #keyPrefix: string;
  readonly #timeoutMs: number;
  readonly #allowWhenUnavailable: boolean;

  constructor(options: RedisReplayStoreOptions) {
    const { client, keyPrefix } = options;
    if (typeof client !== 'object' || client === null || typeof client.set !== 'function') {
      throw new TypeError('client must be an ioredis or node-redis client');
    }
    if (typeof keyPrefix !== 'string' || keyPrefix.length > MAX_PREFIX_LENGTH) {
      throw new TypeError(`keyPrefix must be a string of at most ${MAX_PREFIX_LENGTH} characters`);
    }
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new TypeError('timeoutMs must be a positive number');
    }
    const onUnavailable = options.onUnavailable ?? 'reject';
    if (onUnavailable !== 'reject' && onUnavailable !== 'allow') {
      throw new TypeError("onUnavailable must be 'reject' or 'allow'");
    }
    this.clientKind = detectClientKind(client);
    this.#send = sender(client, this.clientKind);
    this.#keyPrefix = keyPrefix;
    this.#timeoutMs = timeoutMs;
    this.#allowWhenUnavailable = onUnavailable === 'allow';
  }

  /** The Redis key used for `key` (the prefix plus the key, or its SHA-256 if not a short base64url string). */
  redisKey(key: string): string {
    return (
      this.#keyPrefix + (SAFE_KEY.test(key) ? key : createHash('sha256').update(key).digest('base64url'))
    );
  }

  async checkAndRemember(key: string, expiresAt: number): Promise<boolean> {
    if (typeof key !== 'string') throw new TypeError('key must be a string');
    if (!Number.isFinite(expiresAt)) throw new TypeError('expiresAt must be a finite number (epoch ms)');
    // PXAT takes a positive integer; rounding up never forgets a proof early.
    const at = Math.max(1, Math.ceil(expiresAt));
    let reply: unknown;
    try {
      reply = await withTimeout(this.#send(this.redisKey(key), at), this.#timeoutMs);
    } catch (cause) {
      if (this.#allowWhenUnavailable) return true;
      throw new TrustUnavailableError('replay store (Redis) unavailable', { cause });
    }
    if (reply === 'OK') return true;
    if (reply === null || reply === undefined) return false;
    // Not an answer SET NX can give: fail closed (or open, as configured), never guess.
    if (this.#allowWhenUnavailable) return true;
    throw new TrustUnavailableError('replay store (Redis) gave an unexpected reply');
  }
}

/** Builds a {@link RedisReplayStore}; pass it as `replayStore` to `createAuthenticator` or an adapter. */
export function redisReplayStore(options: RedisReplayStoreOptions): RedisReplayStore {
  return new RedisReplayStore(options);
}

/**
 * node-redis clients and clusters (v4+) expose `isOpen`/`isReady`; ioredis `Redis` and
 * `Cluster` expose `status` and `call`.
 */
function detectClientKind(client: RedisClientLike): RedisClientKind {
  const shape = client as unknown as Record<string, unknown>;
  if ('isOpen' in shape && 'isReady' in shape) return 'node-redis';
  if (typeof shape.status === 'string' && typeof shape.call === 'function') return 'ioredis';
  throw new TypeError('client is neither an ioredis nor a node-redis (v4+) client');
}

function sender(client: RedisClientLike, kind: RedisClientKind): Send {
  const set = client.set as unknown as (...args: unknown[]) => Promise<unknown>;
  if (kind === 'ioredis') {
    return (key, at) => set.call(client, key, '1', 'PXAT', at, 'NX');
  }
  const shape = client as unknown as { readonly isReady: boolean };
  return (key, at) => {
    // node-redis queues commands while it reconnects; do not wait on a queue we know is stuck.
    if (!shape.isReady) return Promise.reject(new Error('node-redis client is not ready'));
    // `{ NX, PXAT }` is understood by node-redis 4 through 6 (later majors also take
    // `{ condition, expiration }`).
    return set.call(client, key, '1', { NX: true, PXAT: at });
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
    timer.unref?.();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
