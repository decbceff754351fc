import { wimseFetch } from '@wimse-auth/client';
import { describe, expect, it } from 'vitest';
import { productionLikeVariables, serveExample, startExample, TOKEN_PATTERN } from './example-runner.js';

describe('examples/koa-wpt', () => {
  it('npm start: both audiences succeed, replay and another audience are 401, the restock route is 403', async () => {
    const stdout = await startExample('koa-wpt');
    expect(stdout).toContain('local trust domain example.org');
    expect(stdout).toMatch(
      /GET {2}\/inventory, internal name +200 +spiffe:\/\/example\.org\/ns\/prod\/sa\/billing/,
    );
    expect(stdout).toMatch(
      /GET {2}\/inventory, external name +200 +spiffe:\/\/example\.org\/ns\/prod\/sa\/billing/,
    );
    expect(stdout).toMatch(/captured request sent again +401 +replay_detected/);
    expect(stdout).toMatch(/proof for another service +401 +audience_mismatch/);
    expect(stdout).toMatch(/POST \/inventory\/restock +403 +access_denied/);
    expect(stdout).toContain('[server] POST /inventory/restock refused: 403 access_denied');
    expect(stdout).toContain('all outcomes as expected');
    expect(stdout).not.toMatch(TOKEN_PATTERN);
  });

  it('serves the trust domain and audiences given in the environment, with per-route policies in it', async () => {
    const serving = await serveExample('koa-wpt', productionLikeVariables);
    try {
      const asWorkload = (path: string) => {
        const { token, workloadKey } = serving.trustDomain.issueWit({ sub: path });
        return wimseFetch({
          wit: token,
          privateKey: workloadKey.privateKey,
          audience: (target) => `https://svc.prod.example.com${target.pathname}`,
        });
      };
      const allowed = await asWorkload('/ns/staging/sa/billing')(`${serving.url}/inventory`);
      expect(allowed.status).toBe(200);
      expect(await allowed.json()).toMatchObject({
        caller: 'spiffe://prod.example.com/ns/staging/sa/billing',
      });
      const restock = await asWorkload('/ns/prod/sa/warehouse')(`${serving.url}/inventory/restock`, {
        method: 'POST',
      });
      expect(await restock.json()).toEqual({ restockedBy: 'spiffe://prod.example.com/ns/prod/sa/warehouse' });
      const denied = await asWorkload('/ns/prod/sa/other')(`${serving.url}/inventory`);
      expect(denied.status).toBe(403);
      expect(denied.headers.get('content-type')).toContain('application/problem+json');
    } finally {
      await serving.stop();
    }
  });
});
