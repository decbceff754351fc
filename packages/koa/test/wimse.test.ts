import Router from '@koa/router';
import {
  AccessDeniedError,
  AuthenticationError,
  allowIds,
  type BundleSource,
  createAuthenticator,
  isWimseError,
  problemDetails,
  requireProofOfPossession,
  TrustUnavailableError,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain, sha256 } from '../../../test/support/trust-domain.js';
import {
  requireWorkload,
  type WimseAuthenticatorOptions,
  WimseHttpError,
  type WimseOptions,
  type WimseState,
  wimse,
} from '../src/index.js';
import { ORIGIN, type Running, send, start } from './support.js';

const td = createTestTrustDomain();
const OTHER_ID = 'spiffe://example.org/ns/prod/sa/admin';
const defaults = { trust: td.trust, audience: { origins: [ORIGIN] } };

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** An app using only Koa's default error handling: wimse(), then a handler echoing the caller. */
async function serve(options: Partial<WimseOptions> = {}): Promise<Running> {
  const app = new Koa<WimseState>();
  app.use(wimse('authenticator' in options ? (options as WimseOptions) : { ...defaults, ...options }));
  app.use((ctx) => {
    const caller = ctx.state.wimse;
    ctx.body = caller === undefined ? { caller: null } : { caller: caller.id, form: caller.credentialForm };
  });
  const server = await start(app);
  running.push(server);
  return server;
}

/** An app rendering every WimseError as RFC 9457 problem JSON, as an app's own error middleware would. */
async function serveProblemJson(): Promise<Running> {
  const app = new Koa<WimseState>();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof WimseHttpError)) throw error;
      ctx.set(error.headers);
      ctx.status = error.status;
      ctx.body = { ...problemDetails(error), cause: error.cause.name, causeCode: error.cause.code };
      ctx.type = 'application/problem+json';
    }
  });
  app.use(wimse({ trust: td.trust, audience: { origins: [ORIGIN] } }));
  app.use((ctx) => {
    ctx.body = { caller: ctx.state.wimse?.id };
  });
  const server = await start(app);
  running.push(server);
  return server;
}

function wptHeaderForm(path: string): Record<string, string> {
  const wit = td.issueWit();
  return { 'workload-identity-token': wit, 'workload-proof-token': td.issueWpt(wit, `${ORIGIN}${path}`) };
}

describe('wimse() accepts every credential form', () => {
  it('WIT + WPT in Authorization: WPT', async () => {
    const { base } = await serve();
    const reply = await send(base, '/orders?page=2', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID, form: 'wpt-authorization' });
  });

  it('WIT + WPT in Workload-Proof-Token', async () => {
    const { base } = await serve();
    const reply = await send(base, '/orders', wptHeaderForm('/orders'));
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID, form: 'wpt-header' });
  });

  it('a Workload-Proof-Token binding an access token with ath', async () => {
    const { base } = await serve();
    const wit = td.issueWit();
    const accessToken = 'opaque-access-token-0123456789abcdef';
    const wpt = td.issueWpt(wit, `${ORIGIN}/orders`, { ath: sha256(accessToken) });
    const reply = await send(base, '/orders', {
      'workload-identity-token': wit,
      'workload-proof-token': wpt,
      authorization: `Bearer ${accessToken}`,
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID, form: 'wpt-header' });
  });

  it('a JWT-SVID bearer token', async () => {
    const { base } = await serve();
    const reply = await send(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID, form: 'jwt-svid' });
  });

  it('a repeated JWT-SVID: the same caller on every request, and a wrong path still refused', async () => {
    const { base } = await serve();
    const token = td.issueJwtSvid(`${ORIGIN}/orders`);
    for (let i = 0; i < 3; i++) {
      const reply = await send(base, '/orders', { authorization: `Bearer ${token}` });
      expect(reply.status).toBe(200);
      expect(reply.json()).toEqual({ caller: CALLER_ID, form: 'jwt-svid' });
    }
    const elsewhere = await send(base, '/refunds', { authorization: `Bearer ${token}` });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.challenges).toEqual([
      'WPT',
      'Bearer error="invalid_token", error_description="audience_mismatch"',
    ]);
  });

  it('answers a cached credential without waiting, and refuses by rejecting, never by throwing', async () => {
    const middleware = wimse(defaults);
    const token = td.issueJwtSvid(ORIGIN);
    const context = (authorization?: string) => ({
      method: 'GET',
      originalUrl: '/orders',
      req: { headers: authorization === undefined ? {} : { authorization } } as never,
      state: {} as WimseState,
    });
    const calls: string[] = [];
    const next = async () => {
      calls.push('next');
    };
    // Verified twice, then cached.
    await middleware(context(`Bearer ${token}`), next);
    await middleware(context(`Bearer ${token}`), next);
    expect(calls).toEqual(['next', 'next']);
    const repeated = context(`Bearer ${token}`);
    const returned = middleware(repeated, next);
    // next() already ran: no promise was awaited before it.
    expect(calls).toEqual(['next', 'next', 'next']);
    expect(repeated.state.wimse?.id).toBe(CALLER_ID);
    await returned;
    let refused: Promise<void> | undefined;
    expect(() => {
      refused = middleware(context(), next);
    }).not.toThrow();
    await expect(refused).rejects.toMatchObject({ status: 401, code: 'credentials_missing' });
    expect(calls).toHaveLength(3);
  });

  it('a prebuilt authenticator', async () => {
    const authenticator = createAuthenticator({
      trust: td.trust,
      audience: { origins: [ORIGIN] },
      accept: ['jwt-svid'],
    });
    const { base } = await serve({ authenticator } as Partial<WimseOptions>);
    expect((await send(base, '/', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` })).status).toBe(200);
    const refused = await send(base, '/', td.proofHeaders(`${ORIGIN}/`));
    expect(refused.status).toBe(401);
    expect(refused.challenges).toEqual(['Bearer']);
  });
});

describe("failures through Koa's default error handling", () => {
  it('no credentials: 401 with a WPT and a Bearer challenge, no-store and the safe message', async () => {
    const { base } = await serve();
    const reply = await send(base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.challenges).toEqual(['WPT', 'Bearer']);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['content-type']).toMatch(/^text\/plain/);
    expect(reply.text).toBe('no workload credentials were presented');
  });

  it('challenges carry the realm and only the accepted schemes', async () => {
    const { base } = await serve({ realm: 'orders', accept: ['wpt-authorization'] });
    const reply = await send(base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.challenges).toEqual(['WPT realm="orders"']);
  });

  it('an invalid proof: 401 naming the error code in the challenge', async () => {
    const { base } = await serve();
    const reply = await send(base, '/orders', td.proofHeaders(`${ORIGIN}/elsewhere`));
    expect(reply.status).toBe(401);
    expect(reply.challenges).toEqual(['WPT error="audience_mismatch"', 'Bearer']);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.text.length).toBeGreaterThan(0);
  });

  it('an invalid JWT-SVID: 401 with the RFC 6750 error on the Bearer challenge', async () => {
    const { base } = await serve();
    const reply = await send(base, '/', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN, { exp: 1 })}` });
    expect(reply.status).toBe(401);
    expect(reply.challenges).toEqual([
      'WPT',
      'Bearer error="invalid_token", error_description="token_expired"',
    ]);
  });

  it('a replayed proof: 401 replay_detected', async () => {
    const { base } = await serve();
    const headers = td.proofHeaders(`${ORIGIN}/orders`);
    expect((await send(base, '/orders', headers)).status).toBe(200);
    const replay = await send(base, '/orders', headers);
    expect(replay.status).toBe(401);
    expect(replay.challenges[0]).toBe('WPT error="replay_detected"');
  });

  it('duplicate Authorization fields: 401 credentials_malformed', async () => {
    const { base } = await serve();
    const reply = await send(base, '/orders', {
      authorization: [`Bearer ${td.issueJwtSvid(ORIGIN)}`, `Bearer ${td.issueJwtSvid(ORIGIN)}`],
    });
    expect(reply.status).toBe(401);
    expect(reply.challenges.join(' ')).toContain('credentials_malformed');
  });

  it('a proof in both places: 401 credentials_malformed', async () => {
    const { base } = await serve();
    const wit = td.issueWit();
    const reply = await send(base, '/orders', {
      'workload-identity-token': wit,
      authorization: [`WPT ${td.issueWpt(wit, `${ORIGIN}/orders`)}`, `Bearer ${td.issueJwtSvid(ORIGIN)}`],
    });
    expect(reply.status).toBe(401);
    expect(reply.challenges.join(' ')).toContain('credentials_malformed');
  });

  it('a trust source that throws: 503 trust_unavailable, no challenge', async () => {
    const failing: BundleSource = {
      getBundle() {
        throw new Error('bundle endpoint down at https://spire.internal:8443');
      },
    };
    const { base } = await serve({ trust: failing });
    const reply = await send(base, '/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.status).toBe(503);
    expect(reply.headers['www-authenticate']).toBeUndefined();
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.text).not.toContain('spire.internal');
  });

  it('errors thrown after authentication are not wrapped', async () => {
    const app = new Koa<WimseState>();
    app.silent = true;
    app.use(wimse({ trust: td.trust, audience: { origins: [ORIGIN] } }));
    app.use(() => {
      throw new Error('handler bug with a secret');
    });
    const server = await start(app);
    running.push(server);
    const reply = await send(server.base, '/', td.proofHeaders(`${ORIGIN}/`));
    expect(reply.status).toBe(500);
    expect(reply.text).toBe('Internal Server Error');
  });
});

describe('failures through an app error middleware', () => {
  it('renders problem JSON with the code and keeps the core error as cause', async () => {
    const { base } = await serveProblemJson();
    const reply = await send(base, '/orders', td.proofHeaders(`${ORIGIN}/other`));
    expect(reply.status).toBe(401);
    expect(reply.headers['content-type']).toBe('application/problem+json');
    expect(reply.challenges).toEqual(['WPT error="audience_mismatch"', 'Bearer']);
    expect(reply.json()).toEqual({
      type: 'urn:wimse-auth:error:audience_mismatch',
      title: 'Audience mismatch',
      status: 401,
      detail: expect.any(String),
      code: 'audience_mismatch',
      cause: 'AuthenticationError',
      causeCode: 'audience_mismatch',
    });
  });

  it('renders credentials_missing', async () => {
    const { base } = await serveProblemJson();
    const reply = await send(base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.json()).toMatchObject({ code: 'credentials_missing', status: 401 });
    expect(reply.challenges).toEqual(['WPT', 'Bearer']);
  });
});

describe('credentialsRequired: false', () => {
  it('lets a request with no credential through without a principal', async () => {
    const { base } = await serve({ credentialsRequired: false });
    const reply = await send(base, '/');
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: null });
  });

  it('still authenticates a request that carries credentials', async () => {
    const { base } = await serve({ credentialsRequired: false });
    const reply = await send(base, '/', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.json()).toEqual({ caller: CALLER_ID, form: 'jwt-svid' });
  });

  it('still refuses present-and-invalid credentials', async () => {
    const { base } = await serve({ credentialsRequired: false });
    const bad = await send(base, '/', {
      authorization: `Bearer ${td.issueJwtSvid('https://other.example')}`,
    });
    expect(bad.status).toBe(401);
    expect(bad.challenges[1]).toContain('audience_mismatch');
    const malformed = await send(base, '/', { authorization: 'Bearer not-a-jwt' });
    expect(malformed.status).toBe(401);
    expect(malformed.challenges[1]).toContain('credentials_malformed');
  });
});

describe('requireWorkload with @koa/router', () => {
  async function serveRoutes(options: Partial<WimseAuthenticatorOptions> = {}): Promise<Running> {
    const app = new Koa<WimseState>();
    app.use(wimse({ ...defaults, realm: 'orders', ...options }));
    const router = new Router<WimseState>();
    router.get('/public', (ctx) => {
      ctx.body = { caller: ctx.state.wimse?.id ?? null };
    });
    router.get('/billing', requireWorkload(CALLER_ID), (ctx) => {
      ctx.body = { caller: ctx.state.wimse?.id };
    });
    router.get('/by-pattern', requireWorkload(['spiffe://example.org/ns/*/sa/billing']), (ctx) => {
      ctx.body = { ok: true };
    });
    router.get('/admin', requireWorkload(OTHER_ID), (ctx) => {
      ctx.body = { ok: true };
    });
    router.get('/pop-only', requireWorkload(requireProofOfPossession()), (ctx) => {
      ctx.body = { ok: true };
    });
    app.use(router.routes()).use(router.allowedMethods());
    const server = await start(app);
    running.push(server);
    return server;
  }

  it('allows a matching caller', async () => {
    const { base } = await serveRoutes();
    const reply = await send(base, '/billing', td.proofHeaders(`${ORIGIN}/billing`));
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID });
    const byPattern = await send(base, '/by-pattern', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(byPattern.status).toBe(200);
  });

  it('denies another caller with 403 access_denied and no challenge', async () => {
    const { base } = await serveRoutes();
    const reply = await send(base, '/admin', td.proofHeaders(`${ORIGIN}/admin`));
    expect(reply.status).toBe(403);
    expect(reply.headers['www-authenticate']).toBeUndefined();
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.text).toBe('this workload is not allowed here');
    const bearer = await send(base, '/pop-only', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(bearer.status).toBe(403);
  });

  it('answers 401 credentials_missing with the wimse() challenges when nobody authenticated', async () => {
    const { base } = await serveRoutes({ credentialsRequired: false, accept: ['wpt-authorization'] });
    expect((await send(base, '/public')).json()).toEqual({ caller: null });
    const reply = await send(base, '/billing');
    expect(reply.status).toBe(401);
    expect(reply.challenges).toEqual(['WPT realm="orders"']);
    expect(reply.text).toBe('no workload credentials were presented');
  });

  it('uses the principal the passport strategy leaves on req.wimse', async () => {
    const authenticator = createAuthenticator({ trust: td.trust, audience: { origins: [ORIGIN] } });
    const app = new Koa<WimseState>();
    // Stands in for koa-passport + the @wimse-auth/passport strategy.
    app.use(async (ctx, next) => {
      const principal = await authenticator.authenticateIfPresent({
        url: ctx.originalUrl,
        headers: ctx.req.headersDistinct,
      });
      if (principal !== undefined) (ctx.req as { wimse?: WorkloadPrincipal }).wimse = principal;
      await next();
    });
    const router = new Router<WimseState>();
    router.get('/billing', requireWorkload(CALLER_ID), (ctx) => {
      ctx.body = { caller: ctx.state.wimse?.id };
    });
    router.get('/admin', requireWorkload(OTHER_ID), (ctx) => {
      ctx.body = { ok: true };
    });
    app.use(router.routes());
    const server = await start(app);
    running.push(server);
    const allowed = await send(server.base, '/billing', td.proofHeaders(`${ORIGIN}/billing`));
    expect(allowed.json()).toEqual({ caller: CALLER_ID });
    expect((await send(server.base, '/admin', td.proofHeaders(`${ORIGIN}/admin`))).status).toBe(403);
    const missing = await send(server.base, '/billing');
    expect(missing.status).toBe(401);
    expect(missing.challenges).toEqual(['WPT', 'Bearer']);
  });

  it('takes explicit challenge options', async () => {
    const app = new Koa();
    app.use(requireWorkload(CALLER_ID, { accept: ['jwt-svid'], realm: 'r' }));
    const server = await start(app);
    running.push(server);
    const reply = await send(server.base, '/');
    expect(reply.status).toBe(401);
    expect(reply.challenges).toEqual(['Bearer realm="r"']);
  });

  it('validates the policy when created', () => {
    expect(() => requireWorkload([])).toThrow(TypeError);
    expect(() => requireWorkload('spiffe://example.org/ns/sa-*')).toThrow(TypeError);
    expect(() => requireWorkload('not an identifier')).toThrow();
  });
});

describe('options', () => {
  it('builds the authenticator at creation, so configuration errors throw early', () => {
    expect(() => wimse({ trust: td.trust, audience: {} })).toThrow(/audience/);
    expect(() => wimse({ trust: td.trust, audience: { origins: [ORIGIN] }, accept: [] })).toThrow(TypeError);
  });

  it('refuses an authenticator together with authenticator options', () => {
    const authenticator = createAuthenticator({ trust: td.trust, audience: { origins: [ORIGIN] } });
    expect(() => wimse({ authenticator, trust: td.trust } as unknown as WimseOptions)).toThrow(TypeError);
  });
});

describe('WimseHttpError', () => {
  it('is Koa/http-errors shaped and wraps the core error without mutating it', () => {
    const core = new AuthenticationError('invalid_signature', 'the signature does not verify', {
      credential: 'jwt-svid',
    });
    const error = new WimseHttpError(core, { accept: ['wpt-authorization', 'jwt-svid'], realm: 'x' });
    expect(error).toBeInstanceOf(Error);
    expect(isWimseError(error)).toBe(true);
    expect(error).toMatchObject({
      name: 'WimseHttpError',
      status: 401,
      statusCode: 401,
      expose: true,
      code: 'invalid_signature',
      credential: 'jwt-svid',
      message: 'the signature does not verify',
    });
    expect(error.cause).toBe(core);
    expect(error.headers).toEqual({
      'cache-control': 'no-store',
      'www-authenticate': [
        'WPT realm="x"',
        'Bearer realm="x", error="invalid_token", error_description="invalid_signature"',
      ],
    });
    expect(Object.keys(core)).not.toContain('headers');
    expect(problemDetails(error)).toEqual(problemDetails(core));
  });

  it('has no challenges for 403 and 503', () => {
    expect(new WimseHttpError(new AccessDeniedError('no')).headers).toEqual({ 'cache-control': 'no-store' });
    expect(new WimseHttpError(new TrustUnavailableError('down')).status).toBe(503);
  });

  it('works with allowIds-style authorizers passed as functions', () => {
    expect(() => requireWorkload(allowIds(CALLER_ID))).not.toThrow();
  });
});

describe('the test client', () => {
  it('notices a response that echoes token material', async () => {
    const app = new Koa();
    app.use((ctx) => {
      ctx.body = String(ctx.get('authorization')).split('.')[2];
    });
    const server = await start(app);
    running.push(server);
    await expect(
      send(server.base, '/', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` }),
    ).rejects.toThrow(/leaks token material/);
  });
});
