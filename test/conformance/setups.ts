// One factory per adapter set-up. Adding an adapter to the conformance suite means adding
// one entry here; the cases in cases.ts run unchanged against every entry.
import { createServer, type Server } from 'node:http';
import Router from '@koa/router';
import {
  type Authenticator,
  createAuthenticator,
  errorResponse,
  isWimseError,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import { requireWorkload as expressRequireWorkload, wimse as expressWimse } from '@wimse-auth/express';
import { requireWorkload as koaRequireWorkload, wimse as koaWimse } from '@wimse-auth/koa';
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
  return createAuthenticator({ trust: config.trust, audience: config.audience, issuers: config.issuers });
}

/** What an Express app does with errors the adapter hands on (passport's this.error). */
function expressErrorHandler(authenticator: Authenticator): ErrorRequestHandler {
  return (error, _req, res, next) => {
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
    app.get('/orders', expressWimse({ authenticator }), handler);
    app.get('/optional', expressWimse({ authenticator, credentialsRequired: false }), handler);
    app.get('/admin', expressWimse({ authenticator }), expressRequireWorkload(config.adminId), handler);
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
    app.get('/orders', passport.authenticate('wimse', { session: false }), handler);
    app.get('/optional', passport.authenticate('wimse-optional', { session: false }), handler);
    app.get(
      '/admin',
      passport.authenticate('wimse', { session: false }),
      expressRequireWorkload(config.adminId),
      handler,
    );
    app.use(expressErrorHandler(authenticator));
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
    router.get('/orders', koaWimse({ authenticator }), handler);
    router.get('/optional', koaWimse({ authenticator, credentialsRequired: false }), handler);
    router.get('/admin', koaWimse({ authenticator }), koaRequireWorkload(config.adminId), handler);
    const app = new Koa();
    app.silent = true;
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
    router.get('/orders', passport.authenticate('wimse', { session: false }), handler);
    router.get('/optional', passport.authenticate('wimse-optional', { session: false }), handler);
    router.get(
      '/admin',
      passport.authenticate('wimse', { session: false }),
      koaRequireWorkload(config.adminId),
      handler,
    );
    const app = new Koa();
    app.silent = true;
    app.use(passport.initialize());
    app.use(router.routes());
    return listen(createServer(app.callback()));
  },
};

export const SETUPS: readonly AdapterSetup[] = [
  expressMiddleware,
  expressPassport,
  koaMiddleware,
  koaPassport,
];

export type { Server };
