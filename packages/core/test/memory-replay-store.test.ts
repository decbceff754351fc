import { describe, expect, it } from 'vitest';
import { MemoryReplayStore, TrustUnavailableError } from '../src/index.js';

describe('MemoryReplayStore', () => {
  it('accepts a key once until it expires', async () => {
    let now = 1_000_000;
    const store = new MemoryReplayStore({ now: () => now });
    expect(await store.checkAndRemember('a', now + 5_000)).toBe(true);
    expect(await store.checkAndRemember('a', now + 5_000)).toBe(false);
    now += 5_001;
    expect(await store.checkAndRemember('a', now + 5_000)).toBe(true);
  });

  it('drops expired entries in buckets as time passes', async () => {
    let now = 1_000_000;
    const store = new MemoryReplayStore({ now: () => now });
    for (let i = 0; i < 1000; i++) await store.checkAndRemember(`k${i}`, now + 1_000 + i);
    expect(store.size).toBe(1000);
    now += 3_000;
    await store.checkAndRemember('fresh', now + 1_000);
    expect(store.size).toBe(1);
  });

  it('refuses new proofs when full of unexpired entries instead of forgetting one', async () => {
    let now = 1_000_000;
    const store = new MemoryReplayStore({ maxEntries: 2, now: () => now });
    await store.checkAndRemember('a', now + 10_000);
    await store.checkAndRemember('b', now + 10_000);
    await expect(store.checkAndRemember('c', now + 10_000)).rejects.toBeInstanceOf(TrustUnavailableError);
    expect(await store.checkAndRemember('a', now + 10_000)).toBe(false);
    now += 11_000;
    expect(await store.checkAndRemember('c', now + 10_000)).toBe(true);
  });

  it('survives large clock jumps', async () => {
    let now = 1_000_000;
    const store = new MemoryReplayStore({ now: () => now });
    await store.checkAndRemember('a', now + 1_000);
    now += 365 * 24 * 3600 * 1000;
    expect(await store.checkAndRemember('a', now + 1_000)).toBe(true);
    expect(store.size).toBe(1);
  });

  it('validates maxEntries', () => {
    expect(() => new MemoryReplayStore({ maxEntries: 0 })).toThrow(TypeError);
  });
});
