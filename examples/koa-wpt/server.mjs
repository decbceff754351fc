// The inventory API on Koa: every request must come from a workload of the trusted trust
// domain (wimse()); each route then says which workloads it allows (requireWorkload()).
import Router from '@koa/router';
import { problemDetails } from '@wimse-auth/core';
import { requireWorkload, WimseHttpError, wimse } from '@wimse-auth/koa';
import Koa from 'koa';

export function createApp({ trust, trustDomain, audience }) {
  const app = new Koa();

  // Without this, Koa's default error handling already answers with the right status and
  // WWW-Authenticate challenges; here we also log why, and answer with RFC 9457 problem JSON.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof WimseHttpError)) throw error;
      // The code is safe to log; the request's headers (the tokens) are not.
      console.log(`[server] ${ctx.method} ${ctx.path} refused: ${error.status} ${error.code}`);
      ctx.set(error.headers);
      ctx.status = error.status;
      ctx.body = problemDetails(error);
      ctx.type = 'application/problem+json';
    }
  });
  app.use(wimse({ trust, audience }));

  const router = new Router();
  router.get('/inventory', requireWorkload(`spiffe://${trustDomain}/ns/*/sa/billing`), (ctx) => {
    ctx.body = { caller: ctx.state.wimse.id, credential: ctx.state.wimse.credential };
  });
  router.post(
    '/inventory/restock',
    requireWorkload(`spiffe://${trustDomain}/ns/prod/sa/warehouse`),
    (ctx) => {
      ctx.body = { restockedBy: ctx.state.wimse.id };
    },
  );
  app.use(router.routes()).use(router.allowedMethods());
  return app;
}
