// Type-level contract, checked by `tsc -p packages/express/tsconfig.test.json` (the lines
// marked as expected errors fail the type-check if they stop being errors) and run by vitest.
import { type Authenticator, createAuthenticator, type WorkloadPrincipal } from '@wimse-auth/core';
import express, { type Request, type RequestHandler } from 'express';
import { describe, expectTypeOf, it } from 'vitest';
import type {} from '../src/augment.js';
import {
  type RequireWorkloadOptions,
  requireWorkload,
  type WimseMiddleware,
  type WimseOptions,
  type WimseRequest,
  wimse,
} from '../src/index.js';
import { ORIGIN } from './support/http.js';

const trust = { getBundle: () => undefined };

describe('types', () => {
  it('wimse() and requireWorkload() are Express request handlers', () => {
    const middleware = wimse({ trust, audience: { origins: [ORIGIN] } });
    expectTypeOf(middleware).toExtend<RequestHandler>();
    expectTypeOf(middleware.authenticator).toEqualTypeOf<Authenticator>();
    expectTypeOf(requireWorkload('spiffe://example.org/**')).toEqualTypeOf<RequestHandler>();
    const app = express();
    app.use(middleware);
    app.get('/x', requireWorkload(['spiffe://example.org/a']), (req, res) => {
      res.json({ id: req.wimse?.id });
    });
  });

  it('WimseRequest is an Express Request with wimse', () => {
    expectTypeOf<WimseRequest>().toExtend<Request>();
    expectTypeOf<WimseRequest['wimse']>().toEqualTypeOf<WorkloadPrincipal | undefined>();
  });

  it('the augmentation adds wimse to Express.Request', () => {
    expectTypeOf<Request['wimse']>().toEqualTypeOf<WorkloadPrincipal | undefined>();
  });

  it('options: core options or { authenticator }, never both', () => {
    const authenticator = createAuthenticator({ trust, audience: { values: ['x'] } });
    expectTypeOf({
      authenticator,
      credentialsRequired: false,
      passError: true,
      realm: 'r',
    }).toExtend<WimseOptions>();
    expectTypeOf({
      trust,
      audience: { values: ['x'] },
      accept: ['jwt-svid'] as const,
    }).toExtend<WimseOptions>();
    // Type errors only; never called (each would also throw at runtime).
    const invalid = () => {
      // @ts-expect-error an authenticator and core options together
      wimse({ authenticator, trust });
      // @ts-expect-error the core options need an audience
      wimse({ trust });
      // @ts-expect-error not an AuthorizerSpec
      requireWorkload(42);
    };
    expectTypeOf(invalid).toBeFunction();
    expectTypeOf<RequireWorkloadOptions>().toExtend<{ passError?: boolean; realm?: string }>();
    expectTypeOf<WimseMiddleware>().toExtend<RequestHandler>();
  });
});
