import Router from '@koa/router';
import { FileBundleSource, problemDetails } from '@wimse-auth/core';
import { requireWorkload, WimseHttpError, wimse } from '@wimse-auth/koa';
import Koa from 'koa';

const app = new Koa();

// Optional: answer failures as RFC 9457 problem JSON (without this, Koa's default error
// handling already sends the right status, WWW-Authenticate challenges and a safe message).
app.use(async (ctx, next) => {
  try {
    await next();
  } catch (error) {
    if (!(error instanceof WimseHttpError)) throw error;
    ctx.set(error.headers);
    ctx.status = error.status;
    ctx.body = problemDetails(error);
    ctx.type = 'application/problem+json';
  }
});

app.use(
  wimse({
    trust: new FileBundleSource({
      files: [{ trustDomain: 'example.org', path: process.env.BUNDLE_PATH ?? '/run/spire/bundle.json' }],
    }),
    audience: { origins: ['https://orders.internal.example.org'] },
  }),
);

const router = new Router();
router.get('/orders', requireWorkload('spiffe://example.org/ns/*/sa/billing'), (ctx) => {
  ctx.body = { caller: ctx.state.wimse.id };
});
router.delete('/orders/:id', requireWorkload('spiffe://example.org/ns/prod/sa/admin'), (ctx) => {
  ctx.status = 204;
});
app.use(router.routes()).use(router.allowedMethods());

app.listen(Number(process.env.PORT ?? 8080));
