// Fault injection below the HTTP layer: trust sources and replay stores that throw, reject,
// hang or answer garbage, a bundle file that turns to garbage, and a clock that jumps
// backwards. Documented behaviour (docs/security.md): fail closed with 503
// `trust_unavailable` within `dependencyTimeoutMs`, never an unhandled rejection, and
// normal service as soon as the fault clears.
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type BundleSource,
  FileBundleSource,
  type JwtBundle,
  MemoryReplayStore,
  type ReplayStore,
  TrustDomain,
  type WimseEvent,
} from '@wimse-auth/core';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createKit, type Kit, OTHER_TRUST_DOMAIN } from '../hostile/kit.js';
import { recordHardeningFigure } from '../hostile/report.js';
import { type FaultServer, startFaultServer } from './fault-server.js';

/** How long the services below wait for a dependency; faults must answer within it plus slack. */
const DEPENDENCY_TIMEOUT_MS = 300;
const BOUND_MS = DEPENDENCY_TIMEOUT_MS + 1500;

const never = <T>() => new Promise<T>(() => {});
let faults = 0;

function proofHeaders(kit: Kit): Record<string, string> {
  const wit = kit.wit();
  return { 'workload-identity-token': wit, authorization: `WPT ${kit.wpt(wit, '/orders')}` };
}

const unhandled: unknown[] = [];
const collect = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', collect);
});
afterEach(async () => {
  // Late settlements of abandoned promises happen after the request; give them time to surface.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.off('unhandledRejection', collect);
  expect(unhandled, 'unhandled rejections').toEqual([]);
});
afterAll(() => recordHardeningFigure('faults', faults));

type Mode = 'ok' | 'throw' | 'reject' | 'hang' | 'late-reject' | 'garbage' | 'other-trust-domain';

/** A trust source whose failure mode the test switches. */
function faultyTrust(kit: Kit, otherBundle: () => JwtBundle | undefined) {
  const state = { mode: 'ok' as Mode };
  const source: BundleSource = {
    getBundle(trustDomain) {
      switch (state.mode) {
        case 'ok':
          return kit.trust.getBundle(trustDomain);
        case 'throw':
          throw new Error('bundle cache corrupted');
        case 'reject':
          return Promise.reject(new Error('ECONNREFUSED'));
        case 'hang':
          return never();
        case 'late-reject':
          return new Promise((_, reject) =>
            setTimeout(() => reject(new Error('too late')), DEPENDENCY_TIMEOUT_MS * 2),
          );
        case 'garbage':
          return { keys: 'not a bundle' } as unknown as JwtBundle;
        case 'other-trust-domain':
          return otherBundle();
      }
    },
  };
  return { source, state };
}

describe('fault: the trust source fails', () => {
  const kit = createKit();
  const otherDomain = TrustDomain.parse(OTHER_TRUST_DOMAIN);
  const { source, state } = faultyTrust(kit, () => kit.trust.getBundle(otherDomain) as JwtBundle);
  let server: FaultServer;
  beforeEach(async () => {
    state.mode = 'ok';
    server = await startFaultServer({
      trust: source,
      dependencyTimeoutMs: DEPENDENCY_TIMEOUT_MS,
      cacheSize: { wit: 0, jwtSvid: 0 },
    });
  });
  afterEach(() => server.close());

  const modes: Mode[] = ['throw', 'reject', 'hang', 'late-reject', 'garbage', 'other-trust-domain'];
  for (const mode of modes) {
    it(`${mode}: 503 trust_unavailable within the bound, then recovery`, async () => {
      faults++;
      expect((await server.get(proofHeaders(kit))).status).toBe(200);
      state.mode = mode;
      const failed = await server.get(proofHeaders(kit));
      expect(failed).toMatchObject({ status: 503, code: 'trust_unavailable' });
      expect(failed.ms).toBeLessThan(BOUND_MS);
      state.mode = 'ok';
      expect((await server.get(proofHeaders(kit))).status).toBe(200);
    });
  }

  it('hang: fifty concurrent requests all fail closed within the bound', async () => {
    faults++;
    state.mode = 'hang';
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 50 }, () => server.get(proofHeaders(kit))));
    expect(performance.now() - started).toBeLessThan(BOUND_MS * 2);
    for (const result of results) expect(result).toMatchObject({ status: 503, code: 'trust_unavailable' });
  });
});

describe('fault: the replay store fails', () => {
  const kit = createKit();
  const memory = new MemoryReplayStore();
  const state = { mode: 'ok' as 'ok' | 'throw' | 'reject' | 'hang' };
  const store: ReplayStore = {
    checkAndRemember(key, expiresAt) {
      if (state.mode === 'throw') throw new Error('READONLY You can’t write against a read only replica');
      if (state.mode === 'reject') return Promise.reject(new Error('ETIMEDOUT'));
      if (state.mode === 'hang') return never();
      return memory.checkAndRemember(key, expiresAt);
    },
  };
  let server: FaultServer;
  beforeEach(async () => {
    state.mode = 'ok';
    server = await startFaultServer({
      trust: kit.trust,
      replayStore: store,
      dependencyTimeoutMs: DEPENDENCY_TIMEOUT_MS,
    });
  });
  afterEach(() => server.close());

  for (const mode of ['throw', 'reject', 'hang'] as const) {
    it(`${mode}: 503 trust_unavailable, never acceptance; the unjudged proof works once the store is back`, async () => {
      faults++;
      const headers = proofHeaders(kit);
      state.mode = mode;
      const failed = await server.get(headers);
      expect(failed).toMatchObject({ status: 503, code: 'trust_unavailable' });
      expect(failed.ms).toBeLessThan(BOUND_MS);
      state.mode = 'ok';
      expect((await server.get(headers)).status).toBe(200);
      expect(await server.get(headers)).toMatchObject({ status: 401, code: 'replay_detected' });
    });
  }
});

describe('fault: the clock jumps backwards', () => {
  let nowMs = Date.parse('2031-03-01T12:00:00Z');
  const clock = () => new Date(nowMs);
  const kit = createKit(() => nowMs);
  let server: FaultServer;
  beforeEach(async () => {
    server = await startFaultServer({ trust: kit.trust, clock });
  });
  afterEach(() => server.close());

  it('a cached JWT-SVID is checked against the new time, not waved through by the cache', async () => {
    faults++;
    const svid = kit.svid({ nbf: kit.now() });
    const headers = { authorization: `Bearer ${svid}` };
    expect((await server.get(headers)).status).toBe(200);
    expect((await server.get(headers)).status).toBe(200);
    nowMs -= 10 * 60_000;
    expect(await server.get(headers)).toMatchObject({ status: 401, code: 'token_not_yet_valid' });
    nowMs += 10 * 60_000;
    expect((await server.get(headers)).status).toBe(200);
  });

  it('a cached WIT issued "in the future" after the jump is refused', async () => {
    faults++;
    const wit = kit.wit();
    const send = () =>
      server.get({ 'workload-identity-token': wit, authorization: `WPT ${kit.wpt(wit, '/orders')}` });
    expect((await send()).status).toBe(200);
    nowMs -= 10 * 60_000;
    expect(await send()).toMatchObject({ status: 401, code: 'issued_in_future' });
    nowMs += 10 * 60_000;
    expect((await send()).status).toBe(200);
  });

  it('the replay store still refuses an accepted proof after the jump, and after the clock recovers', async () => {
    faults++;
    // A WIT issued an hour ago stays valid across the jump, so only the replay store decides.
    const wit = kit.wit({ iat: kit.now() - 3600 });
    const headers = { 'workload-identity-token': wit, authorization: `WPT ${kit.wpt(wit, '/orders')}` };
    expect((await server.get(headers)).status).toBe(200);
    nowMs -= 2 * 60_000;
    expect(await server.get(headers)).toMatchObject({ status: 401, code: 'replay_detected' });
    nowMs += 2 * 60_000 + 10_000;
    expect(await server.get(headers)).toMatchObject({ status: 401, code: 'replay_detected' });
  });
});

describe('fault: the clock is stepped forward past a proof, then back', () => {
  it('the replay store, keeping real time, still refuses the proof', async () => {
    faults++;
    let nowMs = Date.parse('2031-03-01T12:00:00Z');
    // Real time barely passes: the wall clock is stepped, as a misbehaving NTP source does.
    const monotonicMs = 0;
    const kit = createKit(() => nowMs);
    const replayStore = new MemoryReplayStore({ now: () => nowMs, monotonicNow: () => monotonicMs });
    const server = await startFaultServer({ trust: kit.trust, clock: () => new Date(nowMs), replayStore });
    try {
      const wit = kit.wit({ iat: kit.now() - 60, exp: kit.now() + 7200 });
      const headers = { 'workload-identity-token': wit, authorization: `WPT ${kit.wpt(wit, '/orders')}` };
      expect((await server.get(headers)).status).toBe(200);
      nowMs += 3_600_000;
      // A proof accepted while the clock is an hour ahead makes the store sweep.
      expect(
        (
          await server.get({
            'workload-identity-token': wit,
            authorization: `WPT ${kit.wpt(wit, '/orders')}`,
          })
        ).status,
      ).toBe(200);
      nowMs -= 3_600_000;
      expect(await server.get(headers)).toMatchObject({ status: 401, code: 'replay_detected' });
    } finally {
      await server.close();
    }
  });
});

describe('fault: a bundle file turns to garbage', () => {
  const kit = createKit();
  const dir = mkdtempSync(path.join(tmpdir(), 'wimse-faults-'));
  const file = path.join(dir, 'example.org.json');
  /** Replaces the file atomically, as a Kubernetes ConfigMap update does. */
  const write = (text: string) => {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function waitFor(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  for (const [label, garbage] of [
    ['not JSON', '{"keys": [ truncated'],
    ['JSON without keys', '{"hello": "world"}'],
    ['binary noise', '\u0000\u0001\u00ff'.repeat(100)],
    ['an empty file', ''],
  ] as const) {
    it(`${label}: the last good bundle stays in use, bundle.stale is emitted, and a good file is picked up again`, async () => {
      faults++;
      write(JSON.stringify(kit.bundleDocument));
      const events: WimseEvent[] = [];
      const trust = new FileBundleSource({
        files: [{ trustDomain: 'example.org', path: file }],
        pollIntervalMs: 50,
        onEvent: (event) => events.push(event),
      });
      await trust.ready;
      const server = await startFaultServer({ trust, dependencyTimeoutMs: DEPENDENCY_TIMEOUT_MS });
      try {
        expect((await server.get(proofHeaders(kit))).status).toBe(200);
        write(garbage);
        await waitFor(() => events.some((event) => event.name === 'bundle.stale'), 'bundle.stale');
        expect((await server.get(proofHeaders(kit))).status).toBe(200);
        expect(JSON.stringify(events)).not.toContain(String(kit.bundleDocument.keys));
        const updatesBefore = events.filter((event) => event.name === 'bundle.updated').length;
        write(JSON.stringify({ ...kit.bundleDocument, spiffe_sequence: 2 }));
        await waitFor(
          () => events.filter((event) => event.name === 'bundle.updated').length > updatesBefore,
          'bundle.updated',
        );
        expect((await server.get(proofHeaders(kit))).status).toBe(200);
      } finally {
        await server.close();
        await trust[Symbol.asyncDispose]();
      }
    });
  }
});
