import { wimseFetch } from '@wimse-auth/client';
import { describe, expect, it } from 'vitest';
import { productionLikeVariables, serveExample, startExample, TOKEN_PATTERN } from './example-runner.js';

describe('examples/express-wpt', () => {
  it('npm start: both audiences succeed, a captured request is a replay, another audience is refused', async () => {
    const stdout = await startExample('express-wpt');
    expect(stdout).toContain('local trust domain example.org');
    expect(stdout).toMatch(
      /proof for the internal name +200 +spiffe:\/\/example\.org\/ns\/prod\/sa\/billing \(wpt\)/,
    );
    expect(stdout).toMatch(
      /proof for the external name +200 +spiffe:\/\/example\.org\/ns\/prod\/sa\/billing \(wpt\)/,
    );
    expect(stdout).toMatch(/captured request sent again +401 +replay_detected/);
    expect(stdout).toMatch(/proof for another service +401 +audience_mismatch/);
    expect(stdout).toContain('[server] GET /orders refused: 401 replay_detected');
    expect(stdout).toContain('all outcomes as expected');
    expect(stdout).not.toMatch(TOKEN_PATTERN);
  });

  it('serves the trust domain and audiences given in the environment', async () => {
    const serving = await serveExample('express-wpt', productionLikeVariables);
    try {
      expect(serving.output).toContain('trust domain prod.example.com from ');
      const billing = serving.trustDomain.issueWit({ sub: '/ns/prod/sa/billing' });
      const call = (origin: string) =>
        wimseFetch({
          wit: billing.token,
          privateKey: billing.workloadKey.privateKey,
          audience: (target) => `${origin}${target.pathname}`,
        })(`${serving.url}/orders`);
      const external = await call('https://svc.example.com');
      expect(external.status).toBe(200);
      expect(await external.json()).toEqual({
        caller: 'spiffe://prod.example.com/ns/prod/sa/billing',
        credential: 'wpt',
      });
      expect((await call('https://svc.prod.example.com')).status).toBe(200);
      // The built-in defaults no longer apply.
      expect((await call('https://orders.example.org')).status).toBe(401);

      const svid = serving.trustDomain.issueJwtSvid({
        sub: '/ns/prod/sa/billing',
        aud: 'spiffe://prod.example.com/svc',
      });
      const bearer = await fetch(`${serving.url}/orders`, { headers: { authorization: `Bearer ${svid}` } });
      expect(await bearer.json()).toMatchObject({ credential: 'jwt-svid' });
    } finally {
      await serving.stop();
    }
  });
});
