import { describe, expect, it } from 'vitest';
import { MemoryReplayStore } from '../src/index.js';

/** A wall clock that tests step, and a monotonic clock that only moves forward with real time. */
function clocks() {
  const time = { wall: 1_000_000_000, monotonic: 0 };
  const store = new MemoryReplayStore({ now: () => time.wall, monotonicNow: () => time.monotonic });
  const elapse = (ms: number) => {
    time.wall += ms;
    time.monotonic += ms;
  };
  return { time, store, elapse };
}

describe('MemoryReplayStore under wall-clock steps', () => {
  it('still refuses a proof after the clock is stepped forward past its expiry and back', async () => {
    const { time, store, elapse } = clocks();
    const expiresAt = time.wall + 60_000;
    expect(await store.checkAndRemember('a', expiresAt)).toBe(true);
    time.wall += 3_600_000;
    elapse(1_000);
    // Another proof, accepted while the clock is ahead, makes the store sweep.
    expect(await store.checkAndRemember('b', time.wall + 60_000)).toBe(true);
    time.wall -= 3_600_000;
    expect(await store.checkAndRemember('a', expiresAt)).toBe(false);
  });

  it('lets entries kept through a forward step go once real time has passed too', async () => {
    const { time, store, elapse } = clocks();
    await store.checkAndRemember('a', time.wall + 60_000);
    time.wall += 3_600_000;
    await store.checkAndRemember('b', time.wall + 60_000);
    expect(store.size).toBe(2);
    // Both a and b are now expired by the wall clock and by real time: only c remains.
    elapse(61_000);
    await store.checkAndRemember('c', time.wall + 60_000);
    expect(store.size).toBe(1);
    expect(await store.checkAndRemember('c', time.wall + 60_000)).toBe(false);
  });

  it('keeps entries through a backward step until the wall clock passes their expiry again', async () => {
    const { time, store, elapse } = clocks();
    const expiresAt = time.wall + 60_000;
    await store.checkAndRemember('a', expiresAt);
    time.wall -= 600_000;
    elapse(120_000);
    expect(await store.checkAndRemember('a', expiresAt)).toBe(false);
    time.wall += 600_000;
    expect(await store.checkAndRemember('fresh', time.wall + 60_000)).toBe(true);
    expect(store.size).toBe(1);
  });
});
