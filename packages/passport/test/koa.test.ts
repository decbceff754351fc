// koa-passport hands strategies a stand-in `req` built on ctx.request; these tests pin down
// that the strategy reads the target and every header line from it and that ctx.state ends
// up with the user and the principal.
import Router from '@koa/router';
import type { BundleSource, WorkloadPrincipal } from '@wimse-auth/core';
import Koa from 'koa';
import koaPassport from 'koa-passport';
import type { Strategy } from 'passport';
import { Strategy as AnonymousStrategy } from 'passport-anonymous';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { WimseStrategy, type WimseStrategyOptions } from '../src/index.js';
import { get, listen, ORIGIN, type Running } from './http.js';

const td = createTestTrustDomain();
const options: WimseStrategyOptions = { trust: td.trust, audience: { origins: [ORIGIN] } };

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

async function app(
  strategies: Strategy[],
  names: string | string[] = 'wimse',
  errors: unknown[] = [],
): Promise<string> {
  const kp = new koaPassport.KoaPassport();
  for (const strategy of strategies) kp.use(strategy);
  const server = new Koa();
  server.on('error', (error) => errors.push(error));
  server.use(kp.initialize());
  const router = new Router();
  router.get('/orders', kp.authenticate(names, { session: false }), (ctx) => {
    const wimse = ctx.state.wimse as WorkloadPrincipal | undefined;
    ctx.body = { user: ctx.state.user ?? null, wimse: wimse?.id ?? null };
  });
  server.use(router.routes());
  const listening = await listen(server.callback());
  running.push(listening);
  return listening.base;
}

describe('WimseStrategy with Koa 3 + koa-passport', () => {
  it('authenticates WIT + WPT; ctx.state.user and ctx.state.wimse are the principal', async () => {
    const base = await app([new WimseStrategy(options)]);
    const reply = await get(base, '/orders?page=2', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({
      user: { id: CALLER_ID, credential: 'wpt', credentialForm: 'wpt-authorization' },
      wimse: CALLER_ID,
    });
  });

  it('authenticates a JWT-SVID', async () => {
    const base = await app([new WimseStrategy(options)]);
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.status).toBe(200);
    expect(reply.json()).toMatchObject({ user: { id: CALLER_ID, credential: 'jwt-svid' }, wimse: CALLER_ID });
  });

  it('verify maps the principal to ctx.state.user', async () => {
    const strategy = new WimseStrategy(options, async (principal) => ({ service: principal.id }));
    const base = await app([strategy]);
    const reply = await get(base, '/orders', td.proofHeaders(`${ORIGIN}/orders`));
    expect(reply.json()).toEqual({ user: { service: CALLER_ID }, wimse: CALLER_ID });
  });

  it('missing credentials: 401 with the WPT and Bearer challenges', async () => {
    const base = await app([new WimseStrategy(options)]);
    const reply = await get(base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('WPT, Bearer');
  });

  it('invalid credential: 401 with the error code in the challenge', async () => {
    const base = await app([new WimseStrategy({ ...options, realm: 'orders' })]);
    const headers = td.proofHeaders(`${ORIGIN}/elsewhere`);
    const reply = await get(base, '/orders', headers);
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe(
      'WPT realm="orders", error="audience_mismatch", Bearer realm="orders"',
    );
  });

  it("two Authorization fields are refused (headersDistinct read from Node's request)", async () => {
    const base = await app([new WimseStrategy(options)]);
    const reply = await get(base, '/orders', {
      authorization: [`Bearer ${td.issueJwtSvid(ORIGIN)}`, `Bearer ${td.issueJwtSvid(ORIGIN)}`],
    });
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toContain('error_description="credentials_malformed"');
  });

  it('trust source failure: 503 through Koa error handling', async () => {
    const failing: BundleSource = { getBundle: () => Promise.reject(new Error('down')) };
    const errors: unknown[] = [];
    const base = await app([new WimseStrategy({ ...options, trust: failing })], 'wimse', errors);
    const reply = await get(base, '/orders', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(reply.status).toBe(503);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'trust_unavailable', status: 503 });
  });

  it("['wimse', 'anonymous'] with no credentials falls through to anonymous", async () => {
    const base = await app([new WimseStrategy(options), new AnonymousStrategy()], ['wimse', 'anonymous']);
    const reply = await get(base, '/orders');
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ user: null, wimse: null });
  });
});
