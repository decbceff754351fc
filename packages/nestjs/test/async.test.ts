// WimseModule.forRootAsync (ConfigService factory, useClass, useExisting) and @UseGuards(WimseGuard) per controller.
import { Controller, Get, Inject, Injectable, Module, UseGuards } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import type { Authenticator, WorkloadPrincipal } from '@wimse-auth/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import {
  AllowWorkloads,
  WIMSE_AUTHENTICATOR,
  WimseAuthService,
  WimseGuard,
  WimseModule,
  type WimseOptions,
  type WimseOptionsFactory,
  Workload,
} from '../src/index.js';
import { challenge, get, ORIGIN, PLATFORMS, type Running, startApp } from './support.js';

const td = createTestTrustDomain();
const proof = (path: string) => td.proofHeaders(`${ORIGIN}${path}`);

@Controller('orders')
@UseGuards(WimseGuard)
class OrdersController {
  @Get()
  list(@Workload() workload: WorkloadPrincipal) {
    return { principal: workload.id };
  }

  @Get('admin')
  @AllowWorkloads('spiffe://example.org/ns/*/sa/admin')
  admin(@Workload() workload: WorkloadPrincipal) {
    return { principal: workload.id };
  }
}

@Controller('open')
class OpenController {
  @Get()
  open() {
    return { open: true };
  }
}

/** A provider of the application using the module's authenticator and service. */
@Injectable()
class Probe {
  constructor(
    @Inject(WIMSE_AUTHENTICATOR) readonly authenticator: Authenticator,
    @Inject(WimseAuthService) readonly service: WimseAuthService,
  ) {}
}

// Configuration as an app would have it (here from a load function instead of env/.env files).
const configuration = () => ({ wimse: { origin: ORIGIN, realm: 'from-config' } });

@Module({
  imports: [
    ConfigModule.forRoot({ ignoreEnvFile: true, load: [configuration] }),
    WimseModule.forRootAsync({
      imports: [ConfigModule],
      inject: [ConfigService],
      useFactory: (config: ConfigService): WimseOptions => ({
        trust: td.trust,
        audience: { origins: [config.getOrThrow<string>('wimse.origin')] },
        realm: config.getOrThrow<string>('wimse.realm'),
      }),
    }),
  ],
  controllers: [OrdersController, OpenController],
  providers: [Probe],
})
class ConfigAppModule {}

@Injectable()
class WimseConfig implements WimseOptionsFactory {
  createWimseOptions(): WimseOptions {
    return { trust: td.trust, audience: { origins: [ORIGIN] }, realm: 'from-class' };
  }
}

@Module({ providers: [WimseConfig], exports: [WimseConfig] })
class WimseConfigModule {}

describe.each(PLATFORMS)('forRootAsync with ConfigService on platform-%s', (platform) => {
  let running: Running;
  beforeAll(async () => {
    running = await startApp(platform, { imports: [ConfigAppModule] });
  });
  afterAll(() => running.close());

  it('authenticates with the options the factory built from configuration', async () => {
    const reply = await get(running.base, '/orders', proof('/orders'));
    expect(reply.status, reply.text).toBe(200);
    expect(reply.json()).toEqual({ principal: CALLER_ID });
  });

  it('uses the configured realm in the challenges', async () => {
    const reply = await get(running.base, '/orders');
    expect(reply.status).toBe(401);
    expect(challenge(reply)).toBe('WPT realm="from-config", Bearer realm="from-config"');
  });

  it('@UseGuards(WimseGuard) protects its controller only; policies apply', async () => {
    expect((await get(running.base, '/open')).status).toBe(200);
    expect((await get(running.base, '/orders/admin', proof('/orders/admin'))).status).toBe(403);
  });

  it('provides the authenticator and WimseAuthService for injection', () => {
    const probe = running.app.get(Probe);
    expect(probe.service.authenticator).toBe(probe.authenticator);
    expect(running.app.get(WIMSE_AUTHENTICATOR)).toBe(probe.authenticator);
    expect(probe.authenticator.accept).toEqual(['wpt-authorization', 'wpt-header', 'jwt-svid']);
  });

  it('WimseAuthService.authenticate takes a request object', async () => {
    const { service } = running.app.get(Probe);
    const principal = await service.authenticate({ url: '/x', headers: proof('/x') });
    expect(principal.id).toBe(CALLER_ID);
    await expect(service.authenticate({ url: '/x', headers: {} })).rejects.toMatchObject({
      code: 'credentials_missing',
    });
    expect(await service.authenticateIfPresent({ url: '/x', headers: {} })).toBeUndefined();
  });
});

describe('forRootAsync with useClass / useExisting', () => {
  it('useClass', async () => {
    @Module({
      imports: [WimseModule.forRootAsync({ useClass: WimseConfig })],
      controllers: [OrdersController],
    })
    class UseClassModule {}
    const running = await startApp('express', { imports: [UseClassModule] });
    try {
      expect(challenge(await get(running.base, '/orders'))).toContain('realm="from-class"');
      expect((await get(running.base, '/orders', proof('/orders'))).status).toBe(200);
    } finally {
      await running.close();
    }
  });

  it('useExisting', async () => {
    @Module({
      imports: [WimseModule.forRootAsync({ imports: [WimseConfigModule], useExisting: WimseConfig })],
      controllers: [OrdersController],
    })
    class UseExistingModule {}
    const running = await startApp('fastify', { imports: [UseExistingModule] });
    try {
      expect((await get(running.base, '/orders', proof('/orders'))).status).toBe(200);
    } finally {
      await running.close();
    }
  });

  it('refuses zero or several option sources', () => {
    expect(() => WimseModule.forRootAsync({})).toThrow(/exactly one/);
    expect(() =>
      WimseModule.forRootAsync({
        useClass: WimseConfig,
        useFactory: () => new WimseConfig().createWimseOptions(),
      }),
    ).toThrow(/exactly one/);
  });

  it('invalid options fail at startup', async () => {
    @Module({
      imports: [WimseModule.forRoot({ trust: td.trust, audience: {} })],
      controllers: [OrdersController],
    })
    class BadModule {}
    await expect(startApp('express', { imports: [BadModule] })).rejects.toThrow(/audience/);
  });

  it('accepts a prebuilt authenticator, and refuses it mixed with core options', async () => {
    const { createAuthenticator } = await import('@wimse-auth/core');
    const authenticator = createAuthenticator({ trust: td.trust, audience: { origins: [ORIGIN] } });
    @Module({ imports: [WimseModule.forRoot({ authenticator })], controllers: [OrdersController] })
    class PrebuiltModule {}
    const running = await startApp('express', { imports: [PrebuiltModule] });
    try {
      expect(running.app.get(WIMSE_AUTHENTICATOR)).toBe(authenticator);
      expect((await get(running.base, '/orders', proof('/orders'))).status).toBe(200);
    } finally {
      await running.close();
    }
    const mixed = { authenticator, trust: td.trust } as unknown as WimseOptions;
    @Module({ imports: [WimseModule.forRoot(mixed)], controllers: [OrdersController] })
    class MixedModule {}
    await expect(startApp('express', { imports: [MixedModule] })).rejects.toThrow(/either/);
  });
});
