import {
  type BundleSource,
  createAuthenticator,
  isWimseError,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import express, { type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import passport from 'passport';
import { Strategy as AnonymousStrategy } from 'passport-anonymous';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain, sha256 } from '../../../test/support/trust-domain.js';
import { WimseStrategy, type WimseStrategyOptions } from '../src/index.js';
import { get, listen, ORIGIN, type Running } from './http.js';

const td = createTestTrustDomain();
const options: WimseStrategyOptions = { trust: td.trust, audience: { origins: [ORIGIN] } };

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

function wimseOf(req: Request): WorkloadPrincipal | undefined {
  return (req as Request & { wimse?: WorkloadPrincipal }).wimse;
}

/** The route every app serves: what passport left on the request. */
const report: RequestHandler = (req, res) => {
  res.json({
    user: req.user ?? null,
    wimse: wimseOf(req)?.id ?? null,
    sameObject: req.user === wimseOf(req),
  });
};

/** Records what the app's error handler saw, then answers with the error's status. */
function errorHandler(seen: unknown[]): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    seen.push(error);
    const status = typeof error?.status === 'number' ? error.status : 500;
    res.status(status).json({ code: isWimseError(error) ? error.code : 'internal', status });
  };
}

/** An Express app whose `/orders` is guarded by `passport.authenticate(names, { session: false })`. */
async function app(
  strategies: passport.Strategy[],
  names: string | string[] = 'wimse',
  seen: unknown[] = [],
): Promise<string> {
  const authenticator = new passport.Passport();
  for (const strategy of strategies) authenticator.use(strategy);
  const server = express();
  server.use(authenticator.initialize());
  server.get('/orders', authenticator.authenticate(names, { session: false }), report);
  const api = express.Router();
  api.get('/orders', authenticator.authenticate(names, { session: false }), report);
  server.use('/api', api);
  server.use(errorHandler(seen));
  const listening = await listen(server);
  running.push(listening);
  return listening.base;
}

describe('WimseStrategy with Express 5 + passport', () => {
  it('authenticates WIT + WPT in Authorization: WPT; req.user = req.wimse = the principal', async () => {
    const base = await app([new WimseStrategy(options)]);
    const reply = await get(base, '/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.status).toBe(200);
    const body = reply.json() as { user: WorkloadPrincipal; wimse: string; sameObject: boolean };
    expect(body.user).toMatchObject({
      id: CALLER_ID,
      trustDomain: 'example.org',
      credential: 'wpt',
      credentialForm: 'wpt-authorization',
    });
    expect(body.wimse).toBe(CALLER_ID);
    expect(body.sameObject).toBe(true);
  });

  it('authenticates WIT + WPT in Workload-Proof-Token (wpt-header form)', async () => {
    const base = await app([new WimseStrategy(options)]);
    const wit = td.issueWit();
    const reply = await get(base, '/orders', {
      'workload-identity-token': wit,
      'workload-proof-token': td.issueWpt(wit, `${ORIGIN}/orders`),
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({
      user: { id: CALLER_ID, credential: 'wpt', credentialForm: 'wpt-header' },
      wimse: CALLER_ID,
    });
  });

  it('authenticates a SPIFFE JWT-SVID bearer token', async () => {
    const base = await app([new WimseStrategy(options)]);
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({
      user: { id: CALLER_ID, credential: 'jwt-svid', credentialForm: 'jwt-svid' },
      wimse: CALLER_ID,
    });
  });

  it('binds the proof to req.originalUrl, not the router-relative req.url', async () => {
    const base = await app([new WimseStrategy(options)]);
    const ok = await get(base, '/api/orders?x=1', td.proofHeaders(`${ORIGIN}/api/orders`));
    expect(ok.status).toBe(200);
    const relative = await get(base, '/api/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(relative.status).toBe(401);
    expect(relative.headers['www-authenticate']).toBe('WPT error="audience_mismatch", Bearer');
  });

  it('missing credentials: 401 with the WPT and Bearer challenges', async () => {
    const base = await app([new WimseStrategy(options)]);
    const reply = await get(base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('WPT, Bearer');
  });

  it('challenges carry the realm and only the accepted schemes', async () => {
    const base = await app([
      new WimseStrategy({ ...options, realm: 'orders', accept: ['wpt-authorization'] }),
    ]);
    const reply = await get(base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('WPT realm="orders"');
  });

  it('invalid JWT-SVID: 401 with error="invalid_token" and the code on the Bearer challenge', async () => {
    const base = await app([new WimseStrategy(options)]);
    const reply = await get(base, '/orders', {
      authorization: `Bearer ${td.issueJwtSvid('https://elsewhere.example.org')}`,
    });
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe(
      'WPT, Bearer error="invalid_token", error_description="audience_mismatch"',
    );
  });

  it('invalid proof (replayed): 401 with error="replay_detected" on the WPT challenge', async () => {
    const base = await app([new WimseStrategy(options)]);
    const headers = td.proofHeaders(`${ORIGIN}/orders`);
    expect((await get(base, '/orders', headers)).status).toBe(200);
    const replay = await get(base, '/orders', headers);
    expect(replay.status).toBe(401);
    expect(replay.headers['www-authenticate']).toBe('WPT error="replay_detected", Bearer');
  });

  it('invalid proof (wrong wth): 401 with error="wit_binding_mismatch"', async () => {
    const base = await app([new WimseStrategy(options)]);
    const wit = td.issueWit();
    const reply = await get(base, '/orders', {
      'workload-identity-token': wit,
      authorization: `WPT ${td.issueWpt(wit, `${ORIGIN}/orders`, { wth: sha256('another WIT') })}`,
    });
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('WPT error="wit_binding_mismatch", Bearer');
  });

  it('two Authorization fields are refused, not half-read (req.headersDistinct)', async () => {
    const base = await app([new WimseStrategy(options)]);
    const reply = await get(base, '/orders', {
      authorization: [`Bearer ${td.issueJwtSvid(ORIGIN)}`, `Bearer ${td.issueJwtSvid(ORIGIN)}`],
    });
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toContain('error_description="credentials_malformed"');
  });

  it('a trust source that throws: this.error(503 trust_unavailable) reaches the app error handler', async () => {
    const failing: BundleSource = {
      getBundle: () => Promise.reject(new Error('SPIRE agent socket unavailable')),
    };
    const seen: unknown[] = [];
    const base = await app([new WimseStrategy({ ...options, trust: failing })], 'wimse', seen);
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.status).toBe(503);
    expect(reply.json()).toEqual({ code: 'trust_unavailable', status: 503 });
    expect(reply.headers['www-authenticate']).toBeUndefined();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ code: 'trust_unavailable', status: 503 });
    expect(isWimseError(seen[0])).toBe(true);
  });

  it('a replay store that throws: 503 through the app error handler', async () => {
    const seen: unknown[] = [];
    const replayStore = { checkAndRemember: () => Promise.reject(new Error('redis down')) };
    const base = await app([new WimseStrategy({ ...options, replayStore })], 'wimse', seen);
    const reply = await get(base, '/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.status).toBe(503);
    expect(seen[0]).toMatchObject({ code: 'trust_unavailable', status: 503 });
  });

  it('accepts a prebuilt core authenticator and a custom strategy name', async () => {
    const strategy = new WimseStrategy({
      authenticator: createAuthenticator(options),
      name: 'workload',
    });
    expect(strategy.name).toBe('workload');
    const base = await app([strategy], 'workload');
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ user: { id: CALLER_ID } });
  });
});

describe('verify: mapping the principal to req.user', () => {
  interface Service {
    service: string;
    via: string;
  }
  const serviceOf = (principal: WorkloadPrincipal, via: string): Service => ({
    service: principal.id.split('/').at(-1) ?? '',
    via,
  });

  it('callback form verify(principal, done)', async () => {
    const strategy = new WimseStrategy<Service>(options, (principal, done) => {
      setImmediate(() => done(null, serviceOf(principal, 'callback')));
    });
    const base = await app([strategy]);
    const reply = await get(base, '/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.status).toBe(200);
    // req.wimse stays the principal, for requireWorkload.
    expect(reply.json()).toEqual({
      user: { service: 'billing', via: 'callback' },
      wimse: CALLER_ID,
      sameObject: false,
    });
  });

  it('async form: the resolved value is the user', async () => {
    const strategy = new WimseStrategy<Service>(options, async (principal) => serviceOf(principal, 'async'));
    const base = await app([strategy]);
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ user: { service: 'billing', via: 'async' }, wimse: CALLER_ID });
  });

  it('synchronous return form', async () => {
    const strategy = new WimseStrategy<Service>(options, (principal) => serviceOf(principal, 'sync'));
    const base = await app([strategy]);
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.json()).toMatchObject({ user: { service: 'billing', via: 'sync' } });
  });

  it('passReqToCallback: verify(req, principal, done) and async verify(req, principal)', async () => {
    const callback = new WimseStrategy<Service>(
      { ...options, passReqToCallback: true, name: 'cb' },
      (req, principal, done) => done(null, serviceOf(principal, `${req.method} ${req.originalUrl}`)),
    );
    const promised = new WimseStrategy<Service>(
      { ...options, passReqToCallback: true, name: 'async' },
      async (req, principal) => serviceOf(principal, `async ${req.originalUrl}`),
    );
    const first = await app([callback], 'cb');
    expect((await get(first, '/orders', td.proofHeaders(`${ORIGIN}/orders`))).json()).toMatchObject({
      user: { via: 'GET /orders' },
    });
    const second = await app([promised], 'async');
    expect((await get(second, '/orders', td.proofHeaders(`${ORIGIN}/orders`))).json()).toMatchObject({
      user: { via: 'async /orders' },
    });
  });

  it('no user (done(null, false) / resolving false or undefined): 401 with bare challenges, req.wimse unset', async () => {
    const refusals = [
      new WimseStrategy<Service>({ ...options, name: 'a' }, (_principal, done) =>
        done(null, false, { why: 1 }),
      ),
      new WimseStrategy<Service>({ ...options, name: 'b' }, async () => false as const),
      new WimseStrategy<Service>({ ...options, name: 'c' }, async () => undefined),
    ];
    for (const strategy of refusals) {
      const base = await app([strategy], strategy.name);
      const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
      expect(reply.status).toBe(401);
      expect(reply.headers['www-authenticate']).toBe('WPT, Bearer');
    }
    // Falling through to anonymous: the refused principal is not left on req.wimse.
    const base = await app([refusals[0]!, new AnonymousStrategy()], ['a', 'anonymous']);
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.json()).toEqual({ user: null, wimse: null, sameObject: true });
  });

  it('verify errors (done(err), rejection, throw) go to this.error', async () => {
    const boom = new Error('user directory down');
    const failing = [
      new WimseStrategy({ ...options, name: 'a' }, (_principal, done) => done(boom)),
      new WimseStrategy({ ...options, name: 'b' }, async () => Promise.reject(boom)),
      new WimseStrategy({ ...options, name: 'c' }, () => {
        throw boom;
      }),
      new WimseStrategy({ ...options, name: 'd' }, (_principal, _done) => {
        throw boom;
      }),
      // An async callback-form verify that rejects before calling done must not hang.
      new WimseStrategy({ ...options, name: 'e' }, async (_principal, _done) => {
        throw boom;
      }),
    ];
    for (const strategy of failing) {
      const seen: unknown[] = [];
      const base = await app([strategy], strategy.name, seen);
      const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
      expect(reply.status).toBe(500);
      expect(seen).toEqual([boom]);
    }
  });

  it('done(null, user, info): info becomes req.authInfo', async () => {
    const strategy = new WimseStrategy<Service>(options, (principal, done) =>
      done(null, serviceOf(principal, 'info'), { scope: 'orders:read' }),
    );
    const authenticator = new passport.Passport();
    authenticator.use(strategy);
    const server = express();
    server.get('/orders', authenticator.authenticate('wimse', { session: false }), (req, res) => {
      res.json({ authInfo: req.authInfo });
    });
    const listening = await listen(server);
    running.push(listening);
    const reply = await get(listening.base, '/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.json()).toEqual({ authInfo: { scope: 'orders:read' } });
  });

  it('a second done() call is ignored', async () => {
    const strategy = new WimseStrategy<Service>(options, (principal, done) => {
      done(null, serviceOf(principal, 'first'));
      done(new Error('late'));
    });
    const seen: unknown[] = [];
    const base = await app([strategy], 'wimse', seen);
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.json()).toMatchObject({ user: { via: 'first' } });
    expect(seen).toEqual([]);
  });
});

describe("passport.authenticate(['wimse', 'anonymous'])", () => {
  const names = ['wimse', 'anonymous'];

  it('no credentials: falls through to anonymous (req.user unset)', async () => {
    const base = await app([new WimseStrategy(options), new AnonymousStrategy()], names);
    const reply = await get(base, '/orders');
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ user: null, wimse: null, sameObject: true });
  });

  it('valid credentials: the wimse strategy wins', async () => {
    const base = await app([new WimseStrategy(options), new AnonymousStrategy()], names);
    const reply = await get(base, '/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.json()).toMatchObject({ user: { id: CALLER_ID }, wimse: CALLER_ID });
  });

  it('an INVALID credential also falls through to anonymous (passport semantics; see README)', async () => {
    const base = await app([new WimseStrategy(options), new AnonymousStrategy()], names);
    const reply = await get(base, '/orders', {
      authorization: `Bearer ${td.issueJwtSvid('https://elsewhere.example.org')}`,
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ user: null, wimse: null, sameObject: true });
  });

  it('a 503 does not fall through: this.error stops the chain', async () => {
    const failing: BundleSource = { getBundle: () => Promise.reject(new Error('down')) };
    const seen: unknown[] = [];
    const base = await app(
      [new WimseStrategy({ ...options, trust: failing }), new AnonymousStrategy()],
      names,
      seen,
    );
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.status).toBe(503);
  });
});

describe('credentialsRequired: false (optional authentication without the anonymous fallthrough)', () => {
  const optional = () => new WimseStrategy({ ...options, credentialsRequired: false });

  it('no credentials: passes with req.user unset', async () => {
    const base = await app([optional()]);
    const reply = await get(base, '/orders');
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ user: null, wimse: null, sameObject: true });
  });

  it('an invalid credential still fails with 401 and its challenge', async () => {
    const base = await app([optional()]);
    const reply = await get(base, '/orders', {
      authorization: `Bearer ${td.issueJwtSvid('https://elsewhere.example.org')}`,
    });
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe(
      'WPT, Bearer error="invalid_token", error_description="audience_mismatch"',
    );
  });

  it('a valid credential authenticates', async () => {
    const base = await app([optional()]);
    const reply = await get(base, '/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.json()).toMatchObject({ user: { id: CALLER_ID }, wimse: CALLER_ID });
  });
});

describe('constructor validation', () => {
  it('refuses an authenticator together with authenticator options', () => {
    expect(
      () =>
        new WimseStrategy({
          authenticator: createAuthenticator(options),
          ...({ trust: td.trust } as object),
        } as WimseStrategyOptions),
    ).toThrow(/not both/);
  });

  it('refuses passReqToCallback without verify, a non-function verify, a bad authenticator', () => {
    expect(
      () =>
        new WimseStrategy(
          { ...options, passReqToCallback: true },
          undefined as unknown as () => WorkloadPrincipal,
        ),
    ).toThrow(/passReqToCallback/);
    expect(() => new WimseStrategy(options, 'x' as unknown as () => WorkloadPrincipal)).toThrow(/verify/);
    expect(() => new WimseStrategy({ authenticator: {} as never })).toThrow(/Authenticator/);
  });

  it('core option errors surface at construction', () => {
    expect(() => new WimseStrategy({ trust: td.trust, audience: {} })).toThrow();
  });

  it('is a passport.Strategy named wimse', () => {
    const strategy = new WimseStrategy(options);
    expect(strategy).toBeInstanceOf(passport.Strategy);
    expect(strategy.name).toBe('wimse');
  });
});
