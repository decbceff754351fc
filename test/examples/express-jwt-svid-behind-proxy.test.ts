import { describe, expect, it } from 'vitest';
import { productionLikeVariables, serveExample, startExample, TOKEN_PATTERN } from './example-runner.js';

describe('examples/express-jwt-svid-behind-proxy', () => {
  it('npm start: a JWT-SVID for the server passes the TLS proxy, another audience is 401 and logged', async () => {
    const stdout = await startExample('express-jwt-svid-behind-proxy');
    expect(stdout).toContain('local trust domain example.org');
    expect(stdout).toMatch(
      /TLS proxy on https:\/\/127\.0\.0\.1:\d+ → http:\/\/127\.0\.0\.1:\d+ \(self-signed certificate\)/,
    );
    expect(stdout).toMatch(
      /JWT-SVID for spiffe:\/\/example\.org\/server +200 +spiffe:\/\/example\.org\/client \(jwt-svid via https\)/,
    );
    expect(stdout).toMatch(/JWT-SVID for spiffe:\/\/example\.org\/other +401 +audience_mismatch/);
    // The reason is in the server's log: the error code, never the token.
    expect(stdout).toContain('[server] GET / from 127.0.0.1 refused: 401 audience_mismatch');
    expect(stdout).toMatch(/no JWT-SVID +401 +credentials_missing/);
    expect(stdout).toContain('all outcomes as expected');
    expect(stdout).not.toMatch(TOKEN_PATTERN);
  });

  it('serves the trust domain and JWT-SVID audience given in the environment, ignoring X-Forwarded-*', async () => {
    const serving = await serveExample('express-jwt-svid-behind-proxy', productionLikeVariables);
    try {
      expect(serving.output).toContain('JWT-SVID audience accepted: spiffe://prod.example.com/svc');
      const call = (aud: string, headers: Record<string, string> = {}) => {
        const svid = serving.trustDomain.issueJwtSvid({ sub: '/client', aud });
        return fetch(`${serving.url}/`, { headers: { ...headers, authorization: `Bearer ${svid}` } });
      };
      const accepted = await call('spiffe://prod.example.com/svc');
      expect(await accepted.json()).toMatchObject({ caller: 'spiffe://prod.example.com/client' });
      expect((await call('spiffe://example.org/server')).status).toBe(401);
      // A forwarded origin is not an audience unless configured: these headers change nothing.
      const forwarded = await call('https://attacker.example', {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'attacker.example',
      });
      expect(forwarded.status).toBe(401);
      expect(forwarded.headers.get('www-authenticate')).toContain('audience_mismatch');
    } finally {
      await serving.stop();
    }
  });
});
