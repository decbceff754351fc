// The example service: a CommonJS Nest app (as `nest build` emits) using @wimse-auth/nestjs.
// Plain JavaScript has no decorator syntax, so decorators are applied the way TypeScript's
// compiled output applies them; the TypeScript equivalent is in README.md.
require('reflect-metadata');
const { Controller, Get, Module } = require('@nestjs/common');
const { APP_GUARD, NestFactory } = require('@nestjs/core');
const { FileBundleSource } = require('@wimse-auth/core');
const {
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
} = require('@wimse-auth/nestjs');
const { ensureDevTrustDomain } = require('./dev-trust-domain.cjs');

/** `@Decorator()` on a class, or on a method with optional parameter decorators. */
function decorate(target, method, decorators, parameters = []) {
  if (method === undefined) {
    for (const decorator of decorators.reverse()) decorator(target);
    return;
  }
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  for (const decorator of decorators.reverse()) decorator(target.prototype, method, descriptor);
  parameters.forEach((decorator, index) => {
    decorator(target.prototype, method, index);
  });
}

// Every route needs an authenticated workload (global WimseGuard) unless marked otherwise.
class OrdersController {
  /** GET /orders: any workload of a trusted trust domain. */
  list(workload) {
    return { caller: workload.id, credential: workload.credential, orders: [] };
  }

  /** GET /orders/audit: only auditors, and only with proof of possession (no bearer JWT-SVIDs). */
  audit(spiffeId) {
    return { auditor: spiffeId, entries: [] };
  }
}
decorate(OrdersController, undefined, [Controller('orders')]);
decorate(OrdersController, 'list', [Get()], [Workload()]);
decorate(
  OrdersController,
  'audit',
  [Get('audit'), AllowWorkloads('spiffe://example.org/ns/*/sa/auditor'), RequireProofOfPossession()],
  [SpiffeId()],
);

class StatusController {
  /** GET /health: public, credentials are not even read. */
  health() {
    return { ok: true };
  }

  /** GET /whoami: credentials optional; a present but invalid credential still fails. */
  whoami(spiffeId, trustDomain) {
    return { spiffeId: spiffeId ?? null, trustDomain: trustDomain ?? null };
  }
}
decorate(StatusController, undefined, [Controller()]);
decorate(StatusController, 'health', [Get('health'), PublicRoute()]);
decorate(StatusController, 'whoami', [Get('whoami'), OptionalAuthentication()], [SpiffeId(), TrustDomain()]);

/** The external origin callers address (proofs are bound to it; Host is never trusted). */
const ORIGIN = process.env.SERVICE_ORIGIN ?? 'http://localhost:3000';

class AppModule {}
decorate(AppModule, undefined, [
  Module({
    imports: [
      WimseModule.forRoot({
        trust: new FileBundleSource({
          files: [
            { trustDomain: 'example.org', path: process.env.TRUST_BUNDLE ?? ensureDevTrustDomain().bundle },
          ],
        }),
        audience: { origins: [ORIGIN] },
        realm: 'nest-app',
      }),
    ],
    controllers: [OrdersController, StatusController],
    providers: [{ provide: APP_GUARD, useClass: WimseGuard }],
  }),
]);

async function main() {
  const app = await NestFactory.create(AppModule, { logger: ['error', 'warn'] });
  app.useGlobalFilters(new WimseExceptionFilter()); // application/problem+json error bodies
  app.enableShutdownHooks();
  await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
  console.log(`nest-app listening on ${await app.getUrl()} (callers address it as ${ORIGIN})`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
