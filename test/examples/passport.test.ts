import { wimseFetch } from '@wimse-auth/client';
import { describe, expect, it } from 'vitest';
import { productionLikeVariables, serveExample, startExample, TOKEN_PATTERN } from './example-runner.js';

describe('examples/passport', () => {
  it('npm start: known workloads become app users, an unknown one and no credentials get 401', async () => {
    const stdout = await startExample('passport');
    expect(stdout).toContain('local trust domain example.org');
    expect(stdout).toMatch(
      /billing +200 +billing \[orders:read\] as spiffe:\/\/example\.org\/ns\/prod\/sa\/billing/,
    );
    expect(stdout).toMatch(/admin +200 +admin \[orders:read, orders:write\]/);
    expect(stdout).toMatch(/unknown workload \(valid WIT\) +401 +WWW-Authenticate: WPT, Bearer/);
    expect(stdout).toMatch(/no credentials +401 +WWW-Authenticate: WPT, Bearer/);
    expect(stdout).toContain('all outcomes as expected');
    expect(stdout).not.toMatch(TOKEN_PATTERN);
  });

  it('serves the trust domain and audiences given in the environment', async () => {
    const serving = await serveExample('passport', productionLikeVariables);
    try {
      const asWorkload = (path: string) => {
        const { token, workloadKey } = serving.trustDomain.issueWit({ sub: path });
        return wimseFetch({
          wit: token,
          privateKey: workloadKey.privateKey,
          audience: (target) => `https://svc.example.com${target.pathname}`,
        });
      };
      const admin = await asWorkload('/ns/prod/sa/admin')(`${serving.url}/me`);
      expect(await admin.json()).toEqual({
        user: { name: 'admin', roles: ['orders:read', 'orders:write'] },
        workload: 'spiffe://prod.example.com/ns/prod/sa/admin',
      });
      expect((await asWorkload('/ns/prod/sa/unknown')(`${serving.url}/me`)).status).toBe(401);

      const svid = serving.trustDomain.issueJwtSvid({
        sub: '/ns/prod/sa/billing',
        aud: 'spiffe://prod.example.com/svc',
      });
      const bearer = await fetch(`${serving.url}/me`, { headers: { authorization: `Bearer ${svid}` } });
      expect(await bearer.json()).toMatchObject({ user: { name: 'billing' } });
    } finally {
      await serving.stop();
    }
  });
});
