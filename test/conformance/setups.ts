// One factory per adapter set-up. Adding an adapter to the conformance suite means adding
// one entry here; the cases in cases.ts run unchanged against every entry.
import { createServer, type Server } from 'node:http';
import { inspect } from 'node:util';
import Router from '@koa/router';
import { All, Controller, type LoggerService, Module, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  type Authenticator,
  createAuthenticator,
  errorResponse,
  isWimseError,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import { requireWorkload as expressRequireWorkload, wimse as expressWimse } from '@wimse-auth/express';
import { requireWorkload as koaRequireWorkload, wimse as koaWimse } from '@wimse-auth/koa';
import {
  AllowWorkloads,
  OptionalAuthentication,
  WimseExceptionFilter,
  WimseGuard,
  WimseModule,
  Workload,
} from '@wimse-auth/nestjs';
import { WimseStrategy } from '@wimse-auth/passport';
import express, { type ErrorRequestHandler, type Request } from 'express';
import Koa from 'koa';
import { KoaPassport } from 'koa-passport';
import { Passport } from 'passport';
import type { SeenPrincipal } from './cases.js';
import { type AdapterSetup, listen, type ServerConfig } from './harness.js';

function seen(principal: unknown): SeenPrincipal | null {
  if (principal === undefined || principal === null) return null;
  const { id, trustDomain, credential, credentialForm } = principal as WorkloadPrincipal;
  return { id, trustDomain, credential, credentialForm };
}

function authenticatorFor(config: ServerConfig): Authenticator {
  return createAuthenticator({
    trust: config.trust,
    audience: config.audience,
    issuers: config.issuers,
    ...(config.otherTokenHeaders === undefined ? {} : { otherTokenHeaders: config.otherTokenHeaders }),
  });
}

/** Writes an error the way an application's error logging would: message, stack and causes. */
function logError(config: ServerConfig, error: unknown): void {
  config.log?.(inspect(error, { depth: 5 }));
}

/** Express's last handler: logs what reached it, then lets Express answer. */
function expressErrorLogger(config: ServerConfig): ErrorRequestHandler {
  return (error, _req, _res, next) => {
    logError(config, error);
    next(error);
  };
}

/** What an Express app does with errors the adapter hands on (passport's this.error). */
function expressErrorHandler(config: ServerConfig, authenticator: Authenticator): ErrorRequestHandler {
  return (error, _req, res, next) => {
    logError(config, error);
    if (!isWimseError(error)) return next(error);
    const { status, headers, body } = errorResponse(error, { accept: authenticator.accept });
    res.status(status).set(headers).json(body);
  };
}

const expressMiddleware: AdapterSetup = {
  name: 'Express middleware',
  bodyFormat: () => 'problem',
  start(config) {
    const authenticator = authenticatorFor(config);
    const handler = (req: Request & { wimse?: WorkloadPrincipal }, res: express.Response) =>
      res.json({ principal: seen(req.wimse) });
    const app = express();
    app.all('/orders', expressWimse({ authenticator }), handler);
    app.all('/optional', expressWimse({ authenticator, credentialsRequired: false }), handler);
    app.all('/admin', expressWimse({ authenticator }), expressRequireWorkload(config.adminId), handler);
    app.use(expressErrorLogger(config));
    return listen(createServer(app));
  },
};

const expressPassport: AdapterSetup = {
  name: 'Express + Passport',
  // Passport answers 401 itself ("Unauthorized" plus our challenges); 403 comes from
  // requireWorkload and 503 from the app's error handler, both as problem+json.
  bodyFormat: (status) => (status === 401 ? 'opaque' : 'problem'),
  start(config) {
    const authenticator = authenticatorFor(config);
    const passport = new Passport();
    passport.use('wimse', new WimseStrategy({ authenticator }));
    passport.use('wimse-optional', new WimseStrategy({ authenticator, credentialsRequired: false }));
    const handler = (req: Request, res: express.Response) => res.json({ principal: seen(req.user) });
    const app = express();
    app.use(passport.initialize());
    app.all('/orders', passport.authenticate('wimse', { session: false }), handler);
    app.all('/optional', passport.authenticate('wimse-optional', { session: false }), handler);
    app.all(
      '/admin',
      passport.authenticate('wimse', { session: false }),
      expressRequireWorkload(config.adminId),
      handler,
    );
    app.use(expressErrorHandler(config, authenticator));
    return listen(createServer(app));
  },
};

const koaMiddleware: AdapterSetup = {
  name: 'Koa middleware',
  // Koa's default error handling: status, headers and the (safe) message as text.
  bodyFormat: () => 'opaque',
  start(config) {
    const authenticator = authenticatorFor(config);
    const router = new Router();
    const handler = (ctx: Koa.Context) => {
      ctx.body = { principal: seen(ctx.state.wimse) };
    };
    router.all('/orders', koaWimse({ authenticator }), handler);
    router.all('/optional', koaWimse({ authenticator, credentialsRequired: false }), handler);
    router.all('/admin', koaWimse({ authenticator }), koaRequireWorkload(config.adminId), handler);
    const app = new Koa();
    app.silent = true;
    app.on('error', (error: unknown) => logError(config, error));
    app.use(router.routes());
    return listen(createServer(app.callback()));
  },
};

const koaPassport: AdapterSetup = {
  name: 'Koa + koa-passport',
  bodyFormat: () => 'opaque',
  start(config) {
    const authenticator = authenticatorFor(config);
    const passport = new KoaPassport();
    passport.use('wimse', new WimseStrategy({ authenticator }));
    passport.use('wimse-optional', new WimseStrategy({ authenticator, credentialsRequired: false }));
    const router = new Router();
    const handler = (ctx: Koa.Context) => {
      ctx.body = { principal: seen(ctx.state.user) };
    };
    router.all('/orders', passport.authenticate('wimse', { session: false }), handler);
    router.all('/optional', passport.authenticate('wimse-optional', { session: false }), handler);
    router.all(
      '/admin',
      passport.authenticate('wimse', { session: false }),
      koaRequireWorkload(config.adminId),
      handler,
    );
    const app = new Koa();
    app.silent = true;
    app.on('error', (error: unknown) => logError(config, error));
    app.use(passport.initialize());
    app.use(router.routes());
    return listen(createServer(app.callback()));
  },
};

// Nest: WimseModule + WimseGuard as APP_GUARD, @OptionalAuthentication and @AllowWorkloads on
// the routes. Decorators are applied as calls because this directory's tsconfig (and so the
// test transformer) does not enable TypeScript's legacy decorators that Nest uses.
function decorate(target: Type<unknown>, method: string, decorators: MethodDecorator[]): void {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, method);
  for (const decorator of decorators) decorator(target.prototype, method, descriptor!);
}

function nestModule(config: ServerConfig): Type<unknown> {
  class ConformanceController {
    orders(principal: WorkloadPrincipal | undefined) {
      return { principal: seen(principal) };
    }
    optional(principal: WorkloadPrincipal | undefined) {
      return { principal: seen(principal) };
    }
    admin(principal: WorkloadPrincipal | undefined) {
      return { principal: seen(principal) };
    }
  }
  Controller()(ConformanceController);
  decorate(ConformanceController, 'orders', [All('orders')]);
  decorate(ConformanceController, 'optional', [All('optional'), OptionalAuthentication()]);
  decorate(ConformanceController, 'admin', [All('admin'), AllowWorkloads(config.adminId)]);
  for (const method of ['orders', 'optional', 'admin'])
    Workload()(ConformanceController.prototype, method, 0);

  class ConformanceModule {}
  Module({
    imports: [
      WimseModule.forRoot({
        trust: config.trust,
        audience: config.audience,
        issuers: config.issuers,
        ...(config.otherTokenHeaders === undefined ? {} : { otherTokenHeaders: config.otherTokenHeaders }),
      }),
    ],
    controllers: [ConformanceController],
    providers: [{ provide: APP_GUARD, useClass: WimseGuard }],
  })(ConformanceModule);
  return ConformanceModule;
}

/** Nest's Logger, writing to the suite's log sink (silent when the suite does not capture). */
function nestLogger(config: ServerConfig): LoggerService | false {
  const { log } = config;
  if (log === undefined) return false;
  const write = (...parts: unknown[]) => log(parts.map((part) => inspect(part, { depth: 5 })).join(' '));
  return { log: write, error: write, warn: write, debug: write, verbose: write, fatal: write };
}

const nestExpress: AdapterSetup = {
  name: 'Nest (Express platform)',
  // Nest's default exception filter: status, WWW-Authenticate (set by the guard) and the
  // core's problem body, but as application/json.
  bodyFormat: () => 'opaque',
  async start(config) {
    const app = await NestFactory.create(nestModule(config), { logger: nestLogger(config) });
    await app.listen(0, '127.0.0.1');
    return app.getHttpServer() as Server;
  },
};

const nestFastify: AdapterSetup = {
  name: 'Nest (Fastify platform)',
  // With WimseExceptionFilter: the core's error response, application/problem+json.
  bodyFormat: () => 'problem',
  async start(config) {
    const app = await NestFactory.create(nestModule(config), new FastifyAdapter(), {
      logger: nestLogger(config),
    });
    app.useGlobalFilters(new WimseExceptionFilter());
    await app.listen(0, '127.0.0.1');
    return app.getHttpServer() as Server;
  },
};

export const SETUPS: readonly AdapterSetup[] = [
  expressMiddleware,
  expressPassport,
  koaMiddleware,
  koaPassport,
  nestExpress,
  nestFastify,
];

export type { Server };
