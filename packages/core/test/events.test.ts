import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileBundleSource, TrustDomain, type WimseEvent } from '../src/index.js';
import { createWorld } from './support/world.js';

const world = createWorld();

describe('observability events', () => {
  it('reports authenticated, rejected, replay and cache hit/miss to onEvent, without token material', async () => {
    const events: WimseEvent[] = [];
    const authenticator = world.authenticator({ onEvent: (event) => events.push(event) });
    const wit = world.mintWit();
    const request = world.proofRequest(wit);
    await authenticator.authenticate(request);
    await expect(authenticator.authenticate(request)).rejects.toMatchObject({ code: 'replay_detected' });
    await authenticator.authenticate(world.proofRequest(wit));

    expect(events.map((e) => e.name)).toEqual([
      'cache.miss',
      'authenticated',
      // The WIT's second sighting: verified again, and cached from then on.
      'cache.miss',
      'replay',
      'rejected',
      'cache.hit',
      'authenticated',
    ]);
    expect(events[1]?.attributes).toEqual({
      'wimse.workload.id': 'spiffe://example.org/ns/prod/sa/billing',
      'wimse.trust_domain': 'example.org',
      'wimse.credential': 'wpt',
      'wimse.credential.form': 'wpt-authorization',
    });
    expect(events[4]?.attributes).toEqual({
      'error.type': 'replay_detected',
      'http.response.status_code': 401,
      'wimse.credential.form': 'wpt-authorization',
    });
    const serialized = JSON.stringify(events);
    for (const token of Object.values(request.headers as Record<string, string>)) {
      for (const part of token.replace('WPT ', '').split('.')) expect(serialized).not.toContain(part);
    }
  });

  it('publishes on diagnostics_channel and survives a throwing listener', async () => {
    const seen: unknown[] = [];
    const onMessage = (message: unknown) => seen.push(message);
    subscribe('wimse-auth:rejected', onMessage);
    try {
      const authenticator = world.authenticator({
        onEvent: () => {
          throw new Error('listener bug');
        },
      });
      await expect(authenticator.authenticate({ url: '/orders', headers: {} })).rejects.toMatchObject({
        code: 'credentials_missing',
      });
      await authenticator.authenticate(world.proofRequest());
    } finally {
      unsubscribe('wimse-auth:rejected', onMessage);
    }
    expect(seen).toEqual([
      {
        name: 'rejected',
        attributes: { 'error.type': 'credentials_missing', 'http.response.status_code': 401 },
      },
    ]);
  });

  it('FileBundleSource reports bundle.updated and bundle.stale', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'wimse-events-'));
    const file = path.join(dir, 'bundle.json');
    const write = (content: string) => {
      writeFileSync(`${file}.tmp`, content);
      renameSync(`${file}.tmp`, file);
    };
    write(JSON.stringify(world.bundle.toJwks()));
    const events: WimseEvent[] = [];
    const source = new FileBundleSource({
      files: [{ trustDomain: 'example.org', path: file, format: 'jwks' }],
      pollIntervalMs: 50,
      onEvent: (event) => events.push(event),
    });
    try {
      await source.ready;
      expect(events.map((e) => e.name)).toEqual(['bundle.updated']);
      expect(events[0]?.attributes['wimse.trust_domain']).toBe('example.org');
      write('{ not json');
      const deadline = Date.now() + 5000;
      while (!events.some((e) => e.name === 'bundle.stale') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(events.some((e) => e.name === 'bundle.stale')).toBe(true);
      expect(await source.getBundle(TrustDomain.parse('example.org'))).toBeDefined();
    } finally {
      await source.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
