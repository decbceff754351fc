// Measures MemoryReplayStore's heap cost per remembered proof, including the 43-character
// key the authenticator passes. Run: `node --expose-gc bench/replay-store-memory.mjs`.
import { createHash } from 'node:crypto';
import { MemoryReplayStore } from '@wimse-auth/core';

if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
const entries = Number(process.env.BENCH_ENTRIES ?? 200_000);
const store = new MemoryReplayStore({ maxEntries: entries });
global.gc();
const before = process.memoryUsage().heapUsed;
const now = Date.now();
for (let i = 0; i < entries; i++) {
  const key = createHash('sha256').update(String(i)).digest('base64url');
  // Spread expiries over five minutes, as proofs from many callers would be.
  await store.checkAndRemember(key, now + 60_000 + (i % 300) * 1000);
}
global.gc();
const perEntry = (process.memoryUsage().heapUsed - before) / entries;
console.log(
  `MemoryReplayStore: ${store.size} entries, ${perEntry.toFixed(0)} bytes per entry (key included)`,
);
