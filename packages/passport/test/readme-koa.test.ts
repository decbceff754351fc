// The README's Koa snippet (its own file: koa-passport re-targets the passport singleton).
import Router from '@koa/router';
import type Koa from 'koa';
import KoaApplication from 'koa';
import koaPassport from 'koa-passport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { get, listen, type Running } from './http.js';
import { README_ORIGIN, runReadmeBlock, type SnippetRun } from './readme.js';

const td = createTestTrustDomain();
let snippet: SnippetRun<Koa>;
let server: Running;

beforeAll(async () => {
  snippet = await runReadmeBlock<Koa>('koa', td, {
    '@koa/router': Router,
    koa: KoaApplication,
    'koa-passport': koaPassport,
  });
  server = await listen(snippet.app.callback());
});

afterAll(async () => {
  await server?.close();
  await snippet?.close();
});

describe('README: Koa snippet', () => {
  it('authenticates WIT + WPT into ctx.state.user', async () => {
    const reply = await get(server.base, '/orders', td.proofHeaders(`${README_ORIGIN}/orders`));
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID });
  });

  it('authenticates a JWT-SVID', async () => {
    const reply = await get(server.base, '/orders', {
      authorization: `Bearer ${td.issueJwtSvid(README_ORIGIN)}`,
    });
    expect(reply.status).toBe(200);
  });

  it('answers 401 with the challenges without credentials', async () => {
    const reply = await get(server.base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('WPT, Bearer');
  });
});
