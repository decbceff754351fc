// The middleware invoked the way Express 4 does it: the returned promise is ignored, so every
// path must end in exactly one of next() / next(error) / a sent response, never a rejection
// and never a synchronous throw. (Express 4 itself is not installed; the code uses no
// Express-5-only API.)
import type { Authenticator, WorkloadPrincipal } from '@wimse-auth/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { describe, expect, it } from 'vitest';
import { createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { requireWorkload, type WimseRequest, wimse } from '../src/index.js';
import { ORIGIN } from './support/http.js';

const td = createTestTrustDomain();

interface Outcome {
  next: unknown[][];
  status?: number;
  headers: Record<string, unknown>;
  body?: string;
  req: WimseRequest;
}

function fakeResponse(outcome: Outcome, headersSent = false): Response {
  return {
    headersSent,
    set statusCode(value: number) {
      outcome.status = value;
    },
    setHeader(name: string, value: unknown) {
      outcome.headers[name] = value;
      return this;
    },
    end(body: string) {
      outcome.body = body;
      return this;
    },
  } as unknown as Response;
}

/** Calls `middleware` as Express 4 would, ignoring its return value, and waits for it to settle. */
async function invoke(
  middleware: RequestHandler,
  req: Partial<Request> & Record<string, unknown>,
  headersSent = false,
): Promise<Outcome> {
  const outcome: Outcome = { next: [], headers: {}, req: req as WimseRequest };
  const next = ((...args: unknown[]) => {
    outcome.next.push(args);
  }) as NextFunction;
  let returned: unknown;
  expect(() => {
    returned = middleware(req as Request, fakeResponse(outcome, headersSent), next);
  }).not.toThrow();
  // Answered at once (a cached credential, a missing one) or later, through a promise that
  // never rejects.
  if (returned !== undefined) {
    expect(returned).toBeInstanceOf(Promise);
    await expect(returned).resolves.toBeUndefined();
  }
  const ended = outcome.body === undefined ? 0 : 1;
  expect(outcome.next.length + ended, 'exactly one of next() or a response').toBe(1);
  return outcome;
}

const throwingAuthenticator = (error: unknown): Authenticator => ({
  accept: ['jwt-svid'],
  authenticate: () => Promise.reject(error),
  authenticateIfPresent: () => Promise.reject(error),
  challenges: () => [],
});

describe('invoked with the return value ignored (Express 4 semantics)', () => {
  const auth = wimse({ trust: td.trust, audience: { origins: [ORIGIN] } });

  it('success: next() once, principal set', async () => {
    const headers = td.proofHeaders(`${ORIGIN}/x`);
    const outcome = await invoke(auth, {
      method: 'GET',
      originalUrl: '/x',
      headers,
      headersDistinct: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    });
    expect(outcome.next).toEqual([[]]);
    expect(outcome.req.wimse?.credential).toBe('wpt');
  });

  it('falls back to req.headers where req.headersDistinct does not exist', async () => {
    const outcome = await invoke(auth, {
      method: 'GET',
      originalUrl: '/x',
      headers: { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` },
    });
    expect(outcome.next).toEqual([[]]);
    expect(outcome.req.wimse?.credential).toBe('jwt-svid');
  });

  it('a repeated JWT-SVID: answered before the middleware returns, with no promise', async () => {
    const token = td.issueJwtSvid(ORIGIN);
    const request = () => ({
      method: 'GET',
      originalUrl: '/x',
      headers: { authorization: `Bearer ${token}` },
    });
    // Verified twice, then cached.
    await invoke(auth, request());
    await invoke(auth, request());
    const req = request() as Partial<Request> & Record<string, unknown>;
    const nextCalls: unknown[][] = [];
    const returned = auth(
      req as Request,
      fakeResponse({ next: [], headers: {}, req: req as WimseRequest }),
      ((...args: unknown[]) => {
        nextCalls.push(args);
      }) as NextFunction,
    );
    expect(returned).toBeUndefined();
    expect(nextCalls).toEqual([[]]);
    expect((req as WimseRequest).wimse?.credential).toBe('jwt-svid');
  });

  it('failure: one response, no next()', async () => {
    const outcome = await invoke(auth, { method: 'GET', originalUrl: '/x', headers: {} });
    expect(outcome.status).toBe(401);
    expect(outcome.headers['www-authenticate']).toEqual(['WPT', 'Bearer']);
    expect(JSON.parse(outcome.body ?? '')).toMatchObject({ code: 'credentials_missing' });
  });

  it('a request object that throws on access: next(error), no throw, no rejection', async () => {
    const hostile = {
      get headers(): never {
        throw new Error('broken request');
      },
      get headersDistinct(): never {
        throw new Error('broken request');
      },
      originalUrl: '/x',
    };
    const outcome = await invoke(auth, hostile);
    expect(outcome.next[0]?.[0]).toMatchObject({ message: 'broken request' });
  });

  it('an authenticator that breaks its contract: the foreign error goes to next(error)', async () => {
    const foreign = new RangeError('not a WimseError');
    for (const credentialsRequired of [true, false]) {
      const outcome = await invoke(
        wimse({ authenticator: throwingAuthenticator(foreign), credentialsRequired }),
        { method: 'GET', originalUrl: '/x', headers: {} },
      );
      expect(outcome.next).toEqual([[foreign]]);
    }
  });

  it('a response already started: next(error) instead of writing a second one', async () => {
    const outcome = await invoke(auth, { method: 'GET', originalUrl: '/x', headers: {} }, true);
    expect(outcome.body).toBeUndefined();
    expect(outcome.next[0]?.[0]).toMatchObject({ code: 'credentials_missing' });
  });

  it('requireWorkload: next() when allowed, one response when denied or missing', async () => {
    const principal = await auth.authenticator.authenticate({
      url: '/x',
      headers: { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` },
    });
    const guard = requireWorkload('spiffe://example.org/**');
    const allowed = await invoke(guard, { wimse: principal });
    expect(allowed.next).toEqual([[]]);
    const denied = await invoke(requireWorkload('spiffe://example.org/ns/x/**'), { wimse: principal });
    expect(denied.status).toBe(403);
    const missing = await invoke(guard, {});
    expect(missing.status).toBe(401);
    const passed = await invoke(requireWorkload('spiffe://example.org/ns/x/**', { passError: true }), {
      wimse: principal as WorkloadPrincipal,
    });
    expect(passed.next[0]?.[0]).toMatchObject({ code: 'access_denied' });
  });
});
