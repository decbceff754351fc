// The README's Express snippet, run as written (bundle path and listen call substituted).
import type { Express } from 'express';
import express from 'express';
import passport from 'passport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { get, listen, type Running } from './http.js';
import { README_ORIGIN, readmeBlock, runReadmeBlock, type SnippetRun } from './readme.js';

const td = createTestTrustDomain();
let snippet: SnippetRun<Express>;
let server: Running;

beforeAll(async () => {
  snippet = await runReadmeBlock<Express>('express', td, { express, passport });
  server = await listen(snippet.app);
});

afterAll(async () => {
  await server?.close();
  await snippet?.close();
});

describe('README: Express snippet', () => {
  it('uses passport.authenticate("wimse", { session: false })', () => {
    expect(readmeBlock('express')).toContain("passport.authenticate('wimse', { session: false })");
  });

  it('authenticates WIT + WPT', async () => {
    const reply = await get(server.base, '/orders', td.proofHeaders(`${README_ORIGIN}/orders`));
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID, credential: 'wpt' });
  });

  it('authenticates a JWT-SVID', async () => {
    const reply = await get(server.base, '/orders', {
      authorization: `Bearer ${td.issueJwtSvid(README_ORIGIN)}`,
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ caller: CALLER_ID, credential: 'jwt-svid' });
  });

  it('answers 401 with WWW-Authenticate: WPT, Bearer without credentials', async () => {
    const reply = await get(server.base, '/orders');
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('WPT, Bearer');
  });

  it('answers 401 with the error code for a proof addressed elsewhere', async () => {
    const reply = await get(server.base, '/orders', td.proofHeaders(`${README_ORIGIN}/invoices`));
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('WPT error="audience_mismatch", Bearer');
  });
});
