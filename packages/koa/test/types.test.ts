// Compile-time checks (run by `tsc -p packages/koa/tsconfig.test.json`) that the structural
// middleware types fit Koa and @koa/router apps of any state type, plus a runtime smoke.
import Router from '@koa/router';
import { StaticBundleSource, type WorkloadPrincipal } from '@wimse-auth/core';
import Koa from 'koa';
import { describe, expectTypeOf, it } from 'vitest';
import { requireWorkload, type WimseHttpError, type WimseState, wimse } from '../src/index.js';

const options = { trust: new StaticBundleSource([]), audience: { values: ['spiffe://example.org/orders'] } };

describe('types', () => {
  it('fits Koa apps and routers of any state type', () => {
    const typed = new Koa<WimseState>();
    typed.use(wimse(options)).use((ctx) => {
      expectTypeOf(ctx.state.wimse).toEqualTypeOf<WorkloadPrincipal | undefined>();
    });

    const untyped = new Koa();
    untyped.use(wimse(options));
    untyped.use(requireWorkload('spiffe://example.org/a'));

    // An app with its own state: use() adds WimseState to it.
    const own = new Koa<{ user?: string }>().use(wimse(options));
    own.use((ctx) => {
      expectTypeOf(ctx.state.user).toEqualTypeOf<string | undefined>();
      expectTypeOf(ctx.state.wimse).toEqualTypeOf<WorkloadPrincipal | undefined>();
    });

    const router = new Router<WimseState>();
    router.use(wimse(options));
    router.get('/x', requireWorkload(['spiffe://example.org/*']), (ctx) => {
      expectTypeOf(ctx.state.wimse).toEqualTypeOf<WorkloadPrincipal | undefined>();
    });
    new Router().post('/y', requireWorkload('spiffe://example.org/a'), (ctx) => {
      ctx.status = 204;
    });

    // The error's headers fit ctx.set().
    typed.use((ctx) => {
      const headers = {} as WimseHttpError['headers'];
      ctx.set(headers);
    });

    // @ts-expect-error a principal is not a string
    const wrong: { wimse?: string } = {} as WimseState;
    void wrong;
  });
});
