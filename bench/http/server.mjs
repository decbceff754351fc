// One server variant of the HTTP benchmark, in its own process (started by run.mjs with the
// variant name as argv[2] and the issuer's public JWK in BENCH_HTTP_ISSUER_JWK). Listens on
// 127.0.0.1, an ephemeral port, reported to the parent over IPC as { port }.
// Every variant serves the same route with the same { ok: true } answer; only the guard in
// front differs. The Express variants share one Express app (below), the Koa variants one
// Koa app (`koaApps`), the Nest variants (`nestApps`) one Nest app on
// @nestjs/platform-express.
import { createPublicKey } from 'node:crypto';
import http from 'node:http';
import express from 'express';
import { ALG, ISSUER, ORIGIN, ROUTE, TRUST_DOMAIN } from './tokens.mjs';

const variant = process.argv[2];
const issuerJwk = JSON.parse(process.env.BENCH_HTTP_ISSUER_JWK ?? 'null');
if (!issuerJwk) throw new Error('BENCH_HTTP_ISSUER_JWK is required');

const handler = (_req, res) => {
  res.json({ ok: true });
};

function listen(requestListener) {
  return new Promise((resolve, reject) => {
    const server = http.createServer(requestListener);
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

/** The issuer's public key as PEM, how the jsonwebtoken-based peers take it. */
const issuerPem = () =>
  createPublicKey({ key: issuerJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });

async function wimseTrust() {
  const { JwtBundle, StaticBundleSource } = await import('@wimse-auth/core');
  return new StaticBundleSource([
    JwtBundle.fromSpiffeBundle(TRUST_DOMAIN, {
      keys: [
        { ...issuerJwk, kid: 'wit-1', use: 'wit-svid' },
        { ...issuerJwk, kid: 'jwt-1', use: 'jwt-svid' },
      ],
    }),
  ]);
}

/** The middleware chain in front of `handler`, per variant. */
const guards = {
  // Unauthenticated ceiling: Express and the handler alone.
  ceiling: async () => [],

  // Reference: one middleware that only calls next(), what one more layer alone costs Express.
  passthrough: async () => [(_req, _res, next) => next()],

  // Auth0's express-oauth2-jwt-bearer: issuer + audience + JWKS URI, as it is configured in
  // production; the JWKS is served by this process on loopback and fetched once (jose's
  // remote JWKS cache), on the first request of the preflight.
  'oauth2-jwt-bearer': async () => {
    const { auth } = await import('express-oauth2-jwt-bearer');
    const jwks = JSON.stringify({ keys: [{ ...issuerJwk, kid: 'jwt-1', alg: ALG, use: 'sig' }] });
    const jwksPort = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(jwks);
    });
    return [
      auth({
        issuer: ISSUER,
        audience: ORIGIN,
        jwksUri: `http://127.0.0.1:${jwksPort}/.well-known/jwks.json`,
        tokenSigningAlg: ALG,
      }),
    ];
  },

  // passport-jwt (jsonwebtoken underneath) with the PEM public key, checking iss and aud too.
  'passport-jwt': async () => {
    const { default: passport } = await import('passport');
    const { ExtractJwt, Strategy } = await import('passport-jwt');
    passport.use(
      new Strategy(
        {
          jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
          secretOrKey: issuerPem(),
          algorithms: [ALG],
          issuer: ISSUER,
          audience: ORIGIN,
        },
        (payload, done) => done(null, payload),
      ),
    );
    return [passport.initialize(), passport.authenticate('jwt', { session: false })];
  },

  // Ours: @wimse-auth/express with the core's default caches.
  wimse: async () => {
    const { wimse } = await import('@wimse-auth/express');
    return [wimse({ trust: await wimseTrust(), audience: { origins: [ORIGIN] } })];
  },

  // auth0's express-jwt (jsonwebtoken underneath) with the PEM public key, iss and aud.
  'express-jwt': async () => {
    const { expressjwt } = await import('express-jwt');
    return [expressjwt({ secret: issuerPem(), algorithms: [ALG], issuer: ISSUER, audience: ORIGIN })];
  },

  // Ours with the replay store in Redis (BENCH_REDIS_URL), as several replicas would run it.
  'wimse-redis': async () => {
    const { wimse } = await import('@wimse-auth/express');
    const { redisReplayStore } = await import('@wimse-auth/redis');
    const { Redis } = await import('ioredis');
    const client = new Redis(process.env.BENCH_REDIS_URL, { lazyConnect: true });
    await client.connect();
    // Its own key space: the Redis may be shared (CI runs the test suites against it).
    const replayStore = redisReplayStore({ client, keyPrefix: `bench:replay:${process.pid}:` });
    return [wimse({ trust: await wimseTrust(), audience: { origins: [ORIGIN] }, replayStore })];
  },

  // Ours through passport: the 'wimse' strategy of @wimse-auth/passport.
  'passport-wimse': async () => {
    const { default: passport } = await import('passport');
    const { WimseStrategy } = await import('@wimse-auth/passport');
    passport.use(new WimseStrategy({ trust: await wimseTrust(), audience: { origins: [ORIGIN] } }));
    return [passport.initialize(), passport.authenticate('wimse', { session: false })];
  },
};

/**
 * One Nest app (Express platform, Nest's defaults, logger off): a controller with GET /orders
 * returning { ok: true } behind `@UseGuards(guard)`. Decorators are applied as function calls
 * (as test/conformance/setups.ts does), since this is plain JavaScript without decorator syntax.
 */
async function nestApp({ guard, imports = [], providers = [] }) {
  const { Controller, Get, Module, UseGuards } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  class OrdersController {
    list() {
      return { ok: true };
    }
  }
  Controller(ROUTE.slice(1))(OrdersController);
  const descriptor = Object.getOwnPropertyDescriptor(OrdersController.prototype, 'list');
  for (const decorator of guard ? [Get(), UseGuards(guard)] : [Get()])
    decorator(OrdersController.prototype, 'list', descriptor);
  class BenchModule {}
  Module({ imports, controllers: [OrdersController], providers })(BenchModule);
  const app = await NestFactory.create(BenchModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  return app.getHttpServer().address().port;
}

/** The Nest variants: the same app, only the guard on GET /orders differs. */
const nestApps = {
  // Unauthenticated ceiling of the Nest platform: the same controller without a guard.
  'nest-ceiling': async () => nestApp({}),

  // Reference: the ceiling plus a guard that only returns true, what Nest's guard step alone
  // costs, the least any guard adds.
  'nest-guard-true': async () => {
    const { Injectable } = await import('@nestjs/common');
    class AllowGuard {
      canActivate() {
        return true;
      }
    }
    Injectable()(AllowGuard);
    return nestApp({ guard: AllowGuard });
  },

  // Reference: a guard that records a fixed caller as `req.user` and returns true, the least
  // any authenticating guard adds (on Node 20, adding a property to an Express 5 request is
  // not cheap: see docs/performance.md).
  'nest-guard-user': async () => {
    const { Injectable } = await import('@nestjs/common');
    const caller = Object.freeze({ spiffeId: `spiffe://${TRUST_DOMAIN}/bench/caller` });
    class RecordingGuard {
      canActivate(context) {
        context.switchToHttp().getRequest().user = caller;
        return true;
      }
    }
    Injectable()(RecordingGuard);
    return nestApp({ guard: RecordingGuard });
  },

  // Ours: WimseModule.forRoot with the core's default caches, WimseGuard on the route.
  'nest-wimse': async () => {
    const { WimseGuard, WimseModule } = await import('@wimse-auth/nestjs');
    return nestApp({
      guard: WimseGuard,
      imports: [WimseModule.forRoot({ trust: await wimseTrust(), audience: { origins: [ORIGIN] } })],
    });
  },

  // Peer: @nestjs/passport's AuthGuard('jwt') with a PassportStrategy(passport-jwt Strategy),
  // configured as the Express passport-jwt variant (PEM public key, ES256, iss and aud).
  'nest-passport-jwt': async () => {
    const { Injectable } = await import('@nestjs/common');
    const { AuthGuard, PassportModule, PassportStrategy } = await import('@nestjs/passport');
    const { ExtractJwt, Strategy } = await import('passport-jwt');
    const pem = issuerPem();
    class JwtStrategy extends PassportStrategy(Strategy) {
      constructor() {
        super({
          jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
          secretOrKey: pem,
          algorithms: [ALG],
          issuer: ISSUER,
          audience: ORIGIN,
        });
      }
      validate(payload) {
        return payload;
      }
    }
    Injectable()(JwtStrategy);
    return nestApp({ guard: AuthGuard('jwt'), imports: [PassportModule], providers: [JwtStrategy] });
  },
};

/**
 * One Koa 3 app: GET /orders answers { ok: true } (other paths 404) behind the variant's
 * middleware. Koa's default error handling renders the guards' 401s (both throw
 * ctx.throw-compatible errors with `status` and `expose`).
 */
async function koaApp(middleware) {
  const { default: Koa } = await import('koa');
  const app = new Koa();
  for (const fn of middleware) app.use(fn);
  app.use((ctx) => {
    if (ctx.method === 'GET' && ctx.path === ROUTE) ctx.body = { ok: true };
  });
  return listen(app.callback());
}

/** The Koa variants. */
const koaApps = {
  'koa-ceiling': async () => koaApp([]),

  // Reference: the ceiling plus one middleware that only calls next(), the least any guard adds.
  'koa-passthrough': async () => koaApp([(_ctx, next) => next()]),

  // koa-jwt (jsonwebtoken underneath) with the PEM public key, iss and aud.
  'koa-jwt': async () => {
    const { default: jwt } = await import('koa-jwt');
    return koaApp([jwt({ secret: issuerPem(), algorithms: [ALG], issuer: ISSUER, audience: ORIGIN })]);
  },

  // Ours: @wimse-auth/koa's wimse() with the core's default caches.
  'koa-wimse': async () => {
    const { wimse } = await import('@wimse-auth/koa');
    return koaApp([wimse({ trust: await wimseTrust(), audience: { origins: [ORIGIN] } })]);
  },
};

let port;
if (Object.hasOwn(koaApps, variant)) {
  port = await koaApps[variant]();
} else if (Object.hasOwn(nestApps, variant)) {
  await import('reflect-metadata');
  port = await nestApps[variant]();
} else {
  if (!Object.hasOwn(guards, variant)) throw new Error(`unknown server variant ${variant}`);
  const app = express();
  app.get(ROUTE, ...(await guards[variant]()), handler);
  // Guards that report failures through next(err) (express-oauth2-jwt-bearer) get their status
  // and challenge here, without the default handler's stack trace on stderr.
  app.use((error, _req, res, _next) => {
    res
      .status(error.status ?? 500)
      .set(error.headers ?? {})
      .end();
  });
  port = await listen(app);
}
// The runner owns this process: exit when it goes away or asks us to.
process.on('disconnect', () => process.exit(0));
// CPU time this process used, so the runner can tell how busy the rest of the machine was,
// and its resident memory.
process.on('message', (message) => {
  if (message === 'cpu') process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage.rss() });
});
process.send({ port });
