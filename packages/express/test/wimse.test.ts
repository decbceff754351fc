import { type BundleSource, createAuthenticator, isWimseError, type WimseError } from '@wimse-auth/core';
import express, { type ErrorRequestHandler, type Express } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { type WimseOptions, type WimseRequest, wimse } from '../src/index.js';
import { everything, listen, ORIGIN, type Running, rawGet } from './support/http.js';

const td = createTestTrustDomain();

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** An app with `wimse(options)` in front of a route that echoes the principal. */
async function serve(
  options: Partial<WimseOptions> = {},
  configure?: (app: Express) => void,
): Promise<Running> {
  const app = express();
  app.use(wimse({ trust: td.trust, audience: { origins: [ORIGIN] }, ...options } as WimseOptions));
  app.get(['/orders', '/orders/:id'], (req: WimseRequest, res) => {
    res.json({
      wimse: req.wimse === undefined ? null : req.wimse.id,
      credential: req.wimse?.credential ?? null,
      form: req.wimse?.credentialForm ?? null,
    });
  });
  configure?.(app);
  const server = await listen(app);
  running.push(server);
  return server;
}

function expectChallenges(response: Response, schemes: readonly string[]): void {
  const challenges = response.headers.get('www-authenticate') ?? '';
  for (const scheme of ['WPT', 'Bearer']) {
    if (schemes.includes(scheme)) expect(challenges).toMatch(new RegExp(`(^|, )${scheme}\\b`));
    else expect(challenges).not.toMatch(new RegExp(`(^|, )${scheme}\\b`));
  }
}

async function expectProblem(
  response: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = (await response.json()) as Record<string, unknown>;
  expect(body).toMatchObject({ type: `urn:wimse-auth:error:${code}`, status, code });
  expect(typeof body.title).toBe('string');
  expect(typeof body.detail).toBe('string');
  return body;
}

describe('wimse() authenticates', () => {
  it('WIT + WPT in Authorization: WPT (newest form) and sets req.wimse', async () => {
    const { base } = await serve();
    const response = await fetch(`${base}/orders?page=2`, { headers: td.proofHeaders(`${ORIGIN}/orders`) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ wimse: CALLER_ID, credential: 'wpt', form: 'wpt-authorization' });
  });

  it('WIT + WPT in Workload-Proof-Token (wpt-01/-02 peers)', async () => {
    const { base } = await serve();
    const wit = td.issueWit();
    const response = await fetch(`${base}/orders/7`, {
      headers: {
        'workload-identity-token': wit,
        'workload-proof-token': td.issueWpt(wit, `${ORIGIN}/orders/7`),
      },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ wimse: CALLER_ID, credential: 'wpt', form: 'wpt-header' });
  });

  it('a JWT-SVID bearer token', async () => {
    const { base } = await serve();
    const response = await fetch(`${base}/orders`, {
      headers: { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ wimse: CALLER_ID, credential: 'jwt-svid', form: 'jwt-svid' });
  });

  it('binds proofs to req.originalUrl, so mounting under a path prefix works', async () => {
    const app = express();
    const router = express.Router();
    router.get('/orders', (req: WimseRequest, res) => {
      res.json({ id: req.wimse?.id, url: req.url });
    });
    app.use('/api', wimse({ trust: td.trust, audience: { origins: [ORIGIN] } }), router);
    const server = await listen(app);
    running.push(server);
    const ok = await fetch(`${server.base}/api/orders`, { headers: td.proofHeaders(`${ORIGIN}/api/orders`) });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ id: CALLER_ID, url: '/orders' });
    // A proof for the path as seen inside the router is not one for the request's target.
    const inner = await fetch(`${server.base}/api/orders`, { headers: td.proofHeaders(`${ORIGIN}/orders`) });
    await expectProblem(inner, 401, 'audience_mismatch');
  });

  it('takes a prebuilt core authenticator and exposes the one it uses', async () => {
    const authenticator = createAuthenticator({ trust: td.trust, audience: { origins: [ORIGIN] } });
    const middleware = wimse({ authenticator, realm: 'orders' });
    expect(middleware.authenticator).toBe(authenticator);
    expect(wimse({ trust: td.trust, audience: { origins: [ORIGIN] } }).authenticator.accept).toEqual([
      'wpt-authorization',
      'wpt-header',
      'jwt-svid',
    ]);
    const app = express();
    app.use(middleware);
    app.get('/orders', (req: WimseRequest, res) => {
      res.json({ id: req.wimse?.id });
    });
    const server = await listen(app);
    running.push(server);
    const ok = await fetch(`${server.base}/orders`, { headers: td.proofHeaders(`${ORIGIN}/orders`) });
    expect(await ok.json()).toEqual({ id: CALLER_ID });
    const missing = await fetch(`${server.base}/orders`);
    expect(missing.headers.get('www-authenticate')).toBe('WPT realm="orders", Bearer realm="orders"');
  });
});

describe('wimse() fails closed', () => {
  it('no credentials: 401 credentials_missing with WPT and Bearer challenges and a problem body', async () => {
    const { base } = await serve();
    const response = await fetch(`${base}/orders`);
    expectChallenges(response, ['WPT', 'Bearer']);
    expect(response.headers.get('www-authenticate')).toBe('WPT, Bearer');
    const body = await expectProblem(response, 401, 'credentials_missing');
    expect(body.title).toBe('Workload credentials required');
  });

  it('sends one WWW-Authenticate field per challenge', async () => {
    const { port } = await serve();
    const response = await rawGet(port, '/orders', []);
    expect(response.status).toBe(401);
    expect(response.headers.filter(([name]) => name === 'www-authenticate').map(([, v]) => v)).toEqual([
      'WPT',
      'Bearer',
    ]);
  });

  it('challenges only the accepted schemes', async () => {
    const { base } = await serve({ accept: ['jwt-svid'] });
    const response = await fetch(`${base}/orders`);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    await expectProblem(response, 401, 'credentials_missing');
  });

  it('an invalid proof: 401 with its error code in the WPT challenge', async () => {
    const { base } = await serve();
    const response = await fetch(`${base}/orders`, {
      headers: td.proofHeaders('https://other.example.org/orders'),
    });
    expect(response.headers.get('www-authenticate')).toBe('WPT error="audience_mismatch", Bearer');
    await expectProblem(response, 401, 'audience_mismatch');
  });

  it('an invalid bearer token: 401 with RFC 6750 error attributes', async () => {
    const { base } = await serve();
    const response = await fetch(`${base}/orders`, { headers: { authorization: 'Bearer not-a-jwt' } });
    expect(response.headers.get('www-authenticate')).toBe(
      'WPT, Bearer error="invalid_request", error_description="credentials_malformed"',
    );
    await expectProblem(response, 401, 'credentials_malformed');
  });

  it('a replayed proof: 401 replay_detected', async () => {
    const { base } = await serve();
    const headers = td.proofHeaders(`${ORIGIN}/orders`);
    expect((await fetch(`${base}/orders`, { headers })).status).toBe(200);
    await expectProblem(await fetch(`${base}/orders`, { headers }), 401, 'replay_detected');
  });

  it('duplicate Authorization fields are refused (credentials_malformed), not half-read', async () => {
    const { port } = await serve();
    const good = td.proofHeaders(`${ORIGIN}/orders`);
    const response = await rawGet(port, '/orders', [
      `Workload-Identity-Token: ${good['workload-identity-token']}`,
      `Authorization: ${good.authorization}`,
      `Authorization: Bearer ${td.issueJwtSvid(ORIGIN)}`,
    ]);
    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ code: 'credentials_malformed' });
    // The same with two bearer tokens, which req.headers would have reduced to one.
    const twoBearers = await rawGet(port, '/orders', [
      `Authorization: Bearer ${td.issueJwtSvid(ORIGIN)}`,
      `Authorization: Bearer ${td.issueJwtSvid(ORIGIN)}`,
    ]);
    expect(twoBearers.status).toBe(401);
    expect(JSON.parse(twoBearers.body)).toMatchObject({ code: 'credentials_malformed' });
  });

  it('a trust source that throws: 503 trust_unavailable, no challenges', async () => {
    const broken: BundleSource = {
      getBundle() {
        throw new Error('bundle endpoint down');
      },
    };
    const { base } = await serve({ trust: broken });
    const response = await fetch(`${base}/orders`, { headers: td.proofHeaders(`${ORIGIN}/orders`) });
    expect(response.headers.get('www-authenticate')).toBeNull();
    const body = await expectProblem(response, 503, 'trust_unavailable');
    expect(JSON.stringify(body)).not.toContain('bundle endpoint down');
  });

  it('never puts token material in the response', async () => {
    const { base } = await serve();
    const wit = td.issueWit();
    const wpt = td.issueWpt(wit, 'https://elsewhere.example.org/orders');
    const svid = td.issueJwtSvid('https://elsewhere.example.org');
    const expiredWit = td.issueWit({ exp: Math.floor(Date.now() / 1000) - 3600 });
    const cases: Array<{ headers: Record<string, string>; tokens: string[] }> = [
      { headers: { 'workload-identity-token': wit, authorization: `WPT ${wpt}` }, tokens: [wit, wpt] },
      { headers: { authorization: `Bearer ${svid}` }, tokens: [svid] },
      {
        headers: {
          'workload-identity-token': expiredWit,
          'workload-proof-token': td.issueWpt(expiredWit, ORIGIN),
        },
        tokens: [expiredWit],
      },
      { headers: { authorization: `WPT ${wpt}` }, tokens: [wpt] },
    ];
    for (const { headers, tokens } of cases) {
      const response = await fetch(`${base}/orders`, { headers });
      expect(response.status).toBe(401);
      const { all } = await everything(response);
      for (const token of tokens) {
        for (const part of token.split('.')) expect(all).not.toContain(part);
      }
      expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/);
    }
  });

  it('invalid options throw when the middleware is created', () => {
    expect(() => wimse({ trust: td.trust, audience: {} })).toThrow(TypeError);
    expect(() => wimse({ trust: td.trust } as unknown as WimseOptions)).toThrow(TypeError);
    expect(() => wimse(undefined as unknown as WimseOptions)).toThrow(TypeError);
    const authenticator = createAuthenticator({ trust: td.trust, audience: { origins: [ORIGIN] } });
    expect(() => wimse({ authenticator, trust: td.trust } as unknown as WimseOptions)).toThrow(/either/);
    expect(() => wimse({ authenticator: {} } as unknown as WimseOptions)).toThrow(TypeError);
  });
});

describe('credentialsRequired: false', () => {
  it('lets a request without any credential through with req.wimse unset', async () => {
    const { base } = await serve({ credentialsRequired: false });
    const response = await fetch(`${base}/orders`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ wimse: null, credential: null, form: null });
  });

  it('still authenticates a request that has one', async () => {
    const { base } = await serve({ credentialsRequired: false });
    const response = await fetch(`${base}/orders`, { headers: td.proofHeaders(`${ORIGIN}/orders`) });
    expect(await response.json()).toMatchObject({ wimse: CALLER_ID });
  });

  it('still refuses a credential that is present but invalid', async () => {
    const { base } = await serve({ credentialsRequired: false });
    const response = await fetch(`${base}/orders`, {
      headers: { authorization: `Bearer ${td.issueJwtSvid('x')}` },
    });
    await expectProblem(response, 401, 'audience_mismatch');
    const proofOnly = await fetch(`${base}/orders`, { headers: { authorization: 'WPT abc.def.ghi' } });
    await expectProblem(proofOnly, 401, 'credentials_malformed');
  });
});

describe('passError: true', () => {
  function capture(seen: unknown[]): (app: Express) => void {
    const handler: ErrorRequestHandler = (error, _req, res, _next) => {
      seen.push(error);
      res.status(499).json({ handledBy: 'app', code: isWimseError(error) ? error.code : null });
    };
    return (app) => app.use(handler);
  }

  it("hands the core WimseError to the app's error handler", async () => {
    const seen: unknown[] = [];
    const { base } = await serve({ passError: true }, capture(seen));
    const response = await fetch(`${base}/orders`);
    expect(response.status).toBe(499);
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(await response.json()).toEqual({ handledBy: 'app', code: 'credentials_missing' });
    expect(seen).toHaveLength(1);
    const error = seen[0] as WimseError;
    expect(isWimseError(error)).toBe(true);
    expect(error.status).toBe(401);
  });

  it('passes 503s and invalid credentials the same way, and success is unaffected', async () => {
    const seen: unknown[] = [];
    const broken: BundleSource = { getBundle: () => Promise.reject(new Error('down')) };
    const { base } = await serve({ passError: true, credentialsRequired: false }, capture(seen));
    expect((await fetch(`${base}/orders`)).status).toBe(200);
    expect((await fetch(`${base}/orders`, { headers: td.proofHeaders(`${ORIGIN}/orders`) })).status).toBe(
      200,
    );
    const invalid = await fetch(`${base}/orders`, { headers: { authorization: 'Bearer x.y.z' } });
    expect(await invalid.json()).toEqual({ handledBy: 'app', code: 'credentials_malformed' });
    const down = await serve({ passError: true, trust: broken }, capture(seen));
    const unavailable = await fetch(`${down.base}/orders`, { headers: td.proofHeaders(`${ORIGIN}/orders`) });
    expect(await unavailable.json()).toEqual({ handledBy: 'app', code: 'trust_unavailable' });
    expect(seen.map((e) => (e as WimseError).status)).toEqual([401, 503]);
  });
});

describe('behind a TLS-terminating proxy', () => {
  it("trust proxy changes req.protocol/hostname, not the proof's audience", async () => {
    const { base } = await serve({}, (app) => app.set('trust proxy', true));
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'attacker.example.net' };
    const forged = await fetch(`${base}/orders`, {
      headers: { ...forwarded, ...td.proofHeaders('https://attacker.example.net/orders') },
    });
    await expectProblem(forged, 401, 'audience_mismatch');
    const configured = await fetch(`${base}/orders`, {
      headers: { ...forwarded, ...td.proofHeaders(`${ORIGIN}/orders`) },
    });
    expect(configured.status).toBe(200);
  });

  it('X-Forwarded-Host counts only with audience.trustProxyHeaders: true', async () => {
    const { base } = await serve({ audience: { origins: [ORIGIN], trustProxyHeaders: true } });
    const response = await fetch(`${base}/orders`, {
      headers: {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'orders.example.org',
        ...td.proofHeaders('https://orders.example.org/orders'),
      },
    });
    expect(response.status).toBe(200);
  });
});

describe('Express glue', () => {
  it('an error thrown after authentication is the route’s, not an authentication failure', async () => {
    const seen: unknown[] = [];
    const { base } = await serve({}, (app) => {
      app.get('/boom', () => {
        throw new Error('route failed');
      });
      const handler: ErrorRequestHandler = (error, _req, res, _next) => {
        seen.push(error);
        res.status(500).json({ message: (error as Error).message });
      };
      app.use(handler);
    });
    const response = await fetch(`${base}/boom`, { headers: td.proofHeaders(`${ORIGIN}/boom`) });
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'route failed' });
    expect(seen).toHaveLength(1);
  });
});
