// @nestjs/passport: PassportStrategy(WimseStrategy, 'wimse') + AuthGuard('wimse'), alone and followed by WimseGuard.
import {
  Controller,
  type ExecutionContext,
  Get,
  Inject,
  Injectable,
  Module,
  Req,
  UseGuards,
} from '@nestjs/common';
import { AuthGuard, PassportModule, PassportStrategy } from '@nestjs/passport';
import type { Authenticator, WorkloadPrincipal } from '@wimse-auth/core';
import { WimseStrategy } from '@wimse-auth/passport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { AllowWorkloads, WIMSE_AUTHENTICATOR, WimseGuard, WimseModule, Workload } from '../src/index.js';
import { challenge, get, ORIGIN, PLATFORMS, type Running, startApp } from './support.js';

const td = createTestTrustDomain();
const ADMIN = 'spiffe://example.org/ns/prod/sa/admin';
const proof = (path: string, sub = CALLER_ID) => td.proofHeaders(`${ORIGIN}${path}`, td.issueWit({ sub }));

/** The app's user, as validate() maps it from the principal. */
interface Service {
  name: string;
  spiffeId: string;
}

/**
 * The 'wimse' passport strategy, sharing the module's authenticator (one replay store).
 * The third argument of PassportStrategy (callback arity 2) makes passport's verify the
 * callback form `(principal, done)` that WimseStrategy recognises.
 */
@Injectable()
class WimsePassportStrategy extends PassportStrategy(WimseStrategy, 'wimse', 2) {
  constructor(@Inject(WIMSE_AUTHENTICATOR) authenticator: Authenticator) {
    super({ authenticator });
  }

  validate(principal: WorkloadPrincipal): Service {
    return { name: principal.id.split('/').at(-1) ?? '', spiffeId: principal.id };
  }
}

/** AuthGuard('wimse') that keeps the strategy's WWW-Authenticate challenges on a 401. */
@Injectable()
class WimseAuthGuard extends AuthGuard('wimse') {
  override handleRequest<TUser>(err: unknown, user: TUser, info: unknown, context: ExecutionContext): TUser {
    if (!err && !user && typeof info === 'string') {
      context
        .switchToHttp()
        .getResponse<{ header(name: string, value: string): unknown }>()
        .header('WWW-Authenticate', info);
    }
    return super.handleRequest(err, user, info, context);
  }
}

@Controller()
class OrdersController {
  @Get('passport')
  @UseGuards(AuthGuard('wimse'))
  passport(@Req() req: { user: Service; wimse: WorkloadPrincipal }) {
    return { user: req.user, wimse: req.wimse.id };
  }

  @Get('challenged')
  @UseGuards(WimseAuthGuard)
  challenged(@Req() req: { user: Service }) {
    return { user: req.user };
  }

  /** Passport authenticates; WimseGuard reuses req.wimse (no second verification) and applies the policy. */
  @Get('admin')
  @UseGuards(AuthGuard('wimse'), WimseGuard)
  @AllowWorkloads(ADMIN)
  admin(@Workload() workload: WorkloadPrincipal, @Req() req: { user: Service }) {
    return { principal: workload.id, user: req.user.name };
  }
}

@Module({
  imports: [PassportModule, WimseModule.forRoot({ trust: td.trust, audience: { origins: [ORIGIN] } })],
  controllers: [OrdersController],
  providers: [WimsePassportStrategy],
})
class PassportAppModule {}

describe.each(PLATFORMS)("AuthGuard('wimse') on platform-%s", (platform) => {
  let running: Running;
  beforeAll(async () => {
    running = await startApp(platform, { imports: [PassportAppModule] });
  });
  afterAll(() => running.close());

  it('authenticates: req.user is what validate() returned, req.wimse the principal', async () => {
    const reply = await get(running.base, '/passport', proof('/passport'));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json()).toEqual({ user: { name: 'billing', spiffeId: CALLER_ID }, wimse: CALLER_ID });
    const svid = await get(running.base, '/passport', { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` });
    expect(svid.status).toBe(200);
  });

  it('401 from AuthGuard: UnauthorizedException, without challenges by default', async () => {
    const reply = await get(running.base, '/passport');
    expect(reply.status).toBe(401);
    expect(reply.json()).toMatchObject({ statusCode: 401, message: 'Unauthorized' });
    expect(reply.headers['www-authenticate']).toBeUndefined();
  });

  it('401 with the challenges when handleRequest copies them (WimseAuthGuard)', async () => {
    const reply = await get(running.base, '/challenged', {
      authorization: `Bearer ${td.issueJwtSvid(ORIGIN, { exp: Math.floor(Date.now() / 1000) - 600 })}`,
    });
    expect(reply.status).toBe(401);
    expect(challenge(reply)).toContain('error_description="token_expired"');
    expect((await get(running.base, '/challenged', proof('/challenged'))).status).toBe(200);
  });

  it('AuthGuard then WimseGuard: one verification (the proof is not replayed), then the policy', async () => {
    const admin = await get(running.base, '/admin', proof('/admin', ADMIN));
    expect(admin.status, admin.text).toBe(200);
    expect(admin.json()).toEqual({ principal: ADMIN, user: 'admin' });
    const other = await get(running.base, '/admin', proof('/admin'));
    expect(other.status).toBe(403);
    expect(other.json()).toMatchObject({ code: 'access_denied' });
  });
});
