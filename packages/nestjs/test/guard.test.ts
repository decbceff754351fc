// WimseModule.forRoot + WimseGuard as APP_GUARD, with every decorator, over real HTTP on both platforms.
import { Controller, Get, Module, Req } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type BundleSource, SpiffeId as CoreSpiffeId, type WorkloadPrincipal } from '@wimse-auth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import {
  AllowTrustDomains,
  AllowWorkloads,
  OptionalAuthentication,
  PublicRoute,
  RequireProofOfPossession,
  SpiffeId,
  TrustDomain,
  WimseExceptionFilter,
  WimseGuard,
  WimseModule,
  Workload,
  WorkloadPolicy,
} from '../src/index.js';
import { challenge, get, ORIGIN, PLATFORMS, type Running, startApp } from './support.js';

const td = createTestTrustDomain();
const ADMIN = 'spiffe://example.org/ns/ops/sa/admin';
const BROKEN = 'broken.example';
const trust: BundleSource = {
  getBundle: (trustDomain) => {
    if (trustDomain.name === BROKEN) throw new Error('bundle endpoint unreachable');
    return td.trust.getBundle(trustDomain);
  },
};

const seen = (principal: WorkloadPrincipal | undefined) => principal?.id ?? null;

@Controller()
class OrdersController {
  @Get('orders')
  orders(
    @Workload() workload: WorkloadPrincipal,
    @SpiffeId() spiffeId: string,
    @SpiffeId({ parse: true }) parsed: CoreSpiffeId,
    @TrustDomain() trustDomain: string,
    @Req() req: { user?: unknown; wimse?: unknown },
  ) {
    return {
      id: workload.id,
      credential: workload.credential,
      spiffeId,
      parsedPath: parsed.path,
      parsedIsSpiffeId: parsed instanceof CoreSpiffeId,
      trustDomain,
      userIsPrincipal: req.user === workload && req.wimse === workload,
    };
  }

  @Get('health')
  @PublicRoute()
  health(@Workload() workload: WorkloadPrincipal | undefined) {
    return { ok: true, principal: seen(workload) };
  }

  @Get('optional')
  @OptionalAuthentication()
  optional(@Workload() workload: WorkloadPrincipal | undefined) {
    return { principal: seen(workload) };
  }

  @Get('optional-admin')
  @OptionalAuthentication()
  @AllowWorkloads(ADMIN)
  optionalAdmin(@Workload() workload: WorkloadPrincipal) {
    return { principal: seen(workload) };
  }

  @Get('admin')
  @AllowWorkloads('spiffe://example.org/ns/*/sa/admin', 'spiffe://example.org/ns/prod/sa/root')
  admin(@Workload() workload: WorkloadPrincipal) {
    return { principal: seen(workload) };
  }

  @Get('pop')
  @RequireProofOfPossession()
  pop(@Workload() workload: WorkloadPrincipal) {
    return { principal: seen(workload) };
  }

  @Get('custom')
  @WorkloadPolicy((principal) => principal.claims.iss === 'https://issuer.example.org')
  custom(@Workload() workload: WorkloadPrincipal) {
    return { principal: seen(workload) };
  }
}

@Controller('billing')
@AllowTrustDomains('example.org')
@AllowWorkloads(CALLER_ID)
@RequireProofOfPossession()
class BillingController {
  @Get('class-policy')
  classPolicy(@Workload() workload: WorkloadPrincipal) {
    return { principal: seen(workload) };
  }

  @Get('method-override')
  @AllowWorkloads(ADMIN)
  @RequireProofOfPossession(false)
  methodOverride(@Workload() workload: WorkloadPrincipal) {
    return { principal: seen(workload) };
  }
}

@Controller('public')
@PublicRoute()
class PublicController {
  @Get()
  index() {
    return { ok: true };
  }

  @Get('private')
  @PublicRoute(false)
  private(@Workload() workload: WorkloadPrincipal) {
    return { principal: seen(workload) };
  }
}

@Module({
  imports: [WimseModule.forRoot({ trust, audience: { origins: [ORIGIN] }, realm: 'orders' })],
  controllers: [OrdersController, BillingController, PublicController],
  providers: [{ provide: APP_GUARD, useClass: WimseGuard }],
})
class AppModule {}

const bearer = (claims: Record<string, unknown> = {}) => ({
  authorization: `Bearer ${td.issueJwtSvid(ORIGIN, claims)}`,
});
const proof = (path: string, sub = CALLER_ID) => td.proofHeaders(`${ORIGIN}${path}`, td.issueWit({ sub }));

describe.each(PLATFORMS)('WimseGuard as APP_GUARD on platform-%s', (platform) => {
  let running: Running;
  beforeAll(async () => {
    running = await startApp(platform, { imports: [AppModule] });
  });
  afterAll(() => running.close());

  it('authenticates a WIT + WPT caller and hands the principal to the parameter decorators', async () => {
    const reply = await get(running.base, '/orders', proof('/orders'));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json()).toEqual({
      id: CALLER_ID,
      credential: 'wpt',
      spiffeId: CALLER_ID,
      parsedPath: '/ns/prod/sa/billing',
      parsedIsSpiffeId: true,
      trustDomain: 'example.org',
      userIsPrincipal: true,
    });
  });

  it('authenticates a JWT-SVID bearer caller', async () => {
    const reply = await get(running.base, '/orders', bearer());
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json()).toMatchObject({ id: CALLER_ID, credential: 'jwt-svid' });
  });

  it('401 without credentials: challenges with realm, problem body, no-store (default exception filter)', async () => {
    const reply = await get(running.base, '/orders');
    expect(reply.status).toBe(401);
    expect(challenge(reply)).toBe('WPT realm="orders", Bearer realm="orders"');
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(reply.headers['content-type']).toContain('json');
    expect(reply.json()).toEqual({
      type: 'urn:wimse-auth:error:credentials_missing',
      title: 'Workload credentials required',
      status: 401,
      detail: 'no workload credentials were presented',
      code: 'credentials_missing',
    });
  });

  it('401 for an invalid credential names the error in the challenge of the scheme tried', async () => {
    const reply = await get(running.base, '/orders', bearer({ exp: Math.floor(Date.now() / 1000) - 600 }));
    expect(reply.status).toBe(401);
    expect(reply.json()).toMatchObject({ status: 401, code: 'token_expired' });
    expect(challenge(reply)).toContain(
      'Bearer realm="orders", error="invalid_token", error_description="token_expired"',
    );
  });

  it('401 for two Authorization fields (headersDistinct is read on both platforms)', async () => {
    const wit = td.issueWit();
    const reply = await get(running.base, '/orders', {
      'workload-identity-token': wit,
      authorization: [`WPT ${td.issueWpt(wit, `${ORIGIN}/orders`)}`, `Bearer ${td.issueJwtSvid(ORIGIN)}`],
    });
    expect(reply.status).toBe(401);
    expect(reply.json()).toMatchObject({ code: 'credentials_malformed' });
  });

  it('401 for a replayed proof', async () => {
    const headers = proof('/orders');
    expect((await get(running.base, '/orders', headers)).status).toBe(200);
    const reply = await get(running.base, '/orders', headers);
    expect(reply.status).toBe(401);
    expect(reply.json()).toMatchObject({ code: 'replay_detected' });
  });

  it('503 when trust is unavailable, without challenges', async () => {
    const reply = await get(running.base, '/orders', proof('/orders', `spiffe://${BROKEN}/w`));
    expect(reply.status).toBe(503);
    expect(reply.headers['www-authenticate']).toBeUndefined();
    expect(reply.json()).toMatchObject({ status: 503, code: 'trust_unavailable' });
  });

  it('@PublicRoute: no authentication at all, credentials are not even read', async () => {
    expect((await get(running.base, '/health')).json()).toEqual({ ok: true, principal: null });
    const withGarbage = await get(running.base, '/health', { authorization: 'Bearer not-a-token' });
    expect(withGarbage.status).toBe(200);
    expect(withGarbage.json()).toEqual({ ok: true, principal: null });
    const valid = await get(running.base, '/health', bearer());
    expect(valid.json()).toEqual({ ok: true, principal: null });
  });

  it('@PublicRoute on the controller, @PublicRoute(false) on a method', async () => {
    expect((await get(running.base, '/public')).status).toBe(200);
    expect((await get(running.base, '/public/private')).status).toBe(401);
    const reply = await get(running.base, '/public/private', bearer());
    expect(reply.json()).toEqual({ principal: CALLER_ID });
  });

  it('@OptionalAuthentication: no credential passes, a present one is verified', async () => {
    expect((await get(running.base, '/optional')).json()).toEqual({ principal: null });
    expect((await get(running.base, '/optional', proof('/optional'))).json()).toEqual({
      principal: CALLER_ID,
    });
    const invalid = await get(
      running.base,
      '/optional',
      bearer({ exp: Math.floor(Date.now() / 1000) - 600 }),
    );
    expect(invalid.status).toBe(401);
    expect(invalid.json()).toMatchObject({ code: 'token_expired' });
  });

  it('@OptionalAuthentication with a policy: no credential is 401, not a pass', async () => {
    const reply = await get(running.base, '/optional-admin');
    expect(reply.status).toBe(401);
    expect(reply.json()).toMatchObject({ code: 'credentials_missing' });
    expect((await get(running.base, '/optional-admin', proof('/optional-admin', ADMIN))).status).toBe(200);
  });

  it('@AllowWorkloads with patterns and ids: 200 for a match, 403 access_denied otherwise', async () => {
    const admin = await get(running.base, '/admin', proof('/admin', ADMIN));
    expect(admin.status, admin.text).toBe(200);
    expect(admin.json()).toEqual({ principal: ADMIN });
    const root = await get(running.base, '/admin', proof('/admin', 'spiffe://example.org/ns/prod/sa/root'));
    expect(root.status).toBe(200);
    const denied = await get(running.base, '/admin', proof('/admin'));
    expect(denied.status).toBe(403);
    expect(denied.headers['www-authenticate']).toBeUndefined();
    expect(denied.json()).toMatchObject({
      status: 403,
      code: 'access_denied',
      type: 'urn:wimse-auth:error:access_denied',
    });
  });

  it('@RequireProofOfPossession: JWT-SVID bearer callers get 403, WIT + WPT callers pass', async () => {
    const bearerReply = await get(running.base, '/pop', bearer());
    expect(bearerReply.status).toBe(403);
    expect(bearerReply.json()).toMatchObject({ code: 'access_denied' });
    const popReply = await get(running.base, '/pop', proof('/pop'));
    expect(popReply.status).toBe(200);
  });

  it('@WorkloadPolicy takes any core authorizer', async () => {
    expect((await get(running.base, '/custom', bearer())).status).toBe(200);
    expect((await get(running.base, '/custom', bearer({ iss: undefined }))).status).toBe(403);
  });

  it('controller-level policies apply to every method; different decorators combine', async () => {
    expect((await get(running.base, '/billing/class-policy', proof('/billing/class-policy'))).status).toBe(
      200,
    );
    // RequireProofOfPossession (class) refuses the bearer caller AllowWorkloads (class) admits.
    expect((await get(running.base, '/billing/class-policy', bearer())).status).toBe(403);
    const admin = proof('/billing/class-policy', ADMIN);
    expect((await get(running.base, '/billing/class-policy', admin)).status).toBe(403);
  });

  it('a method-level decorator overrides the same decorator on the controller', async () => {
    expect(
      (await get(running.base, '/billing/method-override', proof('/billing/method-override'))).status,
    ).toBe(403);
    const admin = await get(
      running.base,
      '/billing/method-override',
      proof('/billing/method-override', ADMIN),
    );
    expect(admin.status).toBe(200);
    // @RequireProofOfPossession(false) lifts the controller's requirement; the class's
    // AllowTrustDomains still applies.
    const adminBearer = await get(running.base, '/billing/method-override', {
      authorization: `Bearer ${td.issueJwtSvid(ORIGIN, { sub: ADMIN })}`,
    });
    expect(adminBearer.status).toBe(200);
  });
});

describe.each(PLATFORMS)('WimseExceptionFilter on platform-%s', (platform) => {
  let running: Running;
  beforeAll(async () => {
    running = await startApp(platform, { imports: [AppModule] }, (app) =>
      app.useGlobalFilters(new WimseExceptionFilter()),
    );
  });
  afterAll(() => running.close());

  it('answers application/problem+json with the challenges', async () => {
    const reply = await get(running.base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(reply.headers['cache-control']).toBe('no-store');
    expect(challenge(reply)).toBe('WPT realm="orders", Bearer realm="orders"');
    expect(reply.json()).toMatchObject({ status: 401, code: 'credentials_missing' });
  });

  it('403 and 503 too', async () => {
    const denied = await get(running.base, '/admin', proof('/admin'));
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toMatch(/^application\/problem\+json/);
    const unavailable = await get(running.base, '/orders', proof('/orders', `spiffe://${BROKEN}/w`));
    expect(unavailable.status).toBe(503);
    expect(unavailable.json()).toMatchObject({ code: 'trust_unavailable' });
  });
});
