import {
  type AuthorizerSpec,
  allowIf,
  allowTrustDomains,
  createAuthenticator,
  isWimseError,
  requireProofOfPossession,
  type WimseError,
} from '@wimse-auth/core';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import { type RequireWorkloadOptions, requireWorkload, type WimseRequest, wimse } from '../src/index.js';
import { listen, ORIGIN, type Running } from './support/http.js';

const td = createTestTrustDomain();
const authenticator = createAuthenticator({ trust: td.trust, audience: { origins: [ORIGIN] } });

const running: Running[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

/** `wimse()` (optional credentials) in front of `GET /r` guarded by `requireWorkload(spec)`. */
async function guarded(
  spec: AuthorizerSpec,
  options?: RequireWorkloadOptions,
  authenticate: RequestHandler = wimse({ authenticator, credentialsRequired: false }),
): Promise<string> {
  const app = express();
  app.use(authenticate);
  app.get('/r', requireWorkload(spec, options), (req: WimseRequest, res) => {
    res.json({ id: req.wimse?.id });
  });
  const handler: ErrorRequestHandler = (error, _req, res, _next) => {
    res.status(499).json({ passed: isWimseError(error) ? (error as WimseError).code : String(error) });
  };
  app.use(handler);
  const server = await listen(app);
  running.push(server);
  return `${server.base}/r`;
}

const proof = () => ({ headers: td.proofHeaders(`${ORIGIN}/r`) });
const bearer = () => ({ headers: { authorization: `Bearer ${td.issueJwtSvid(ORIGIN)}` } });

async function expectDenied(response: Response): Promise<void> {
  expect(response.status).toBe(403);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('www-authenticate')).toBeNull();
  expect(await response.json()).toMatchObject({ status: 403, code: 'access_denied' });
}

describe('requireWorkload()', () => {
  it('allows an exact workload identifier', async () => {
    const url = await guarded(CALLER_ID);
    const response = await fetch(url, proof());
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ id: CALLER_ID });
  });

  it('denies another identifier with 403 access_denied', async () => {
    await expectDenied(await fetch(await guarded('spiffe://example.org/ns/prod/sa/shipping'), proof()));
  });

  it('matches path patterns', async () => {
    expect((await fetch(await guarded('spiffe://example.org/ns/*/sa/billing'), proof())).status).toBe(200);
    expect((await fetch(await guarded('spiffe://example.org/**'), bearer())).status).toBe(200);
    await expectDenied(await fetch(await guarded('spiffe://example.org/ns/*/sa/shipping'), proof()));
    await expectDenied(await fetch(await guarded('spiffe://other.example/**'), proof()));
  });

  it('allows when any entry of a list of identifiers and patterns matches', async () => {
    const url = await guarded([
      'spiffe://example.org/ns/prod/sa/shipping',
      'spiffe://example.org/ns/*/sa/billing',
    ]);
    expect((await fetch(url, proof())).status).toBe(200);
    await expectDenied(
      await fetch(
        await guarded(['spiffe://example.org/ns/prod/sa/shipping', 'spiffe://example.org/ns/dev/**']),
        proof(),
      ),
    );
  });

  it('takes core authorizers', async () => {
    expect((await fetch(await guarded(allowTrustDomains('example.org')), proof())).status).toBe(200);
    const pop = await guarded(requireProofOfPossession());
    expect((await fetch(pop, proof())).status).toBe(200);
    await expectDenied(await fetch(pop, bearer()));
    // An authorizer that throws denies (core authorize()).
    const throwing = await guarded(
      allowIf(() => {
        throw new Error('policy backend down');
      }),
    );
    const response = await fetch(throwing, proof());
    expect(await response.clone().text()).not.toContain('policy backend down');
    await expectDenied(response);
  });

  it('no authenticated workload: 401 credentials_missing with challenges', async () => {
    const response = await fetch(await guarded(CALLER_ID));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('WPT, Bearer');
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    expect(await response.json()).toMatchObject({ status: 401, code: 'credentials_missing' });
  });

  it('challenges what `accept` and `realm` say', async () => {
    const response = await fetch(
      await guarded(CALLER_ID, { accept: ['wpt-authorization'], realm: 'orders' }),
    );
    expect(response.headers.get('www-authenticate')).toBe('WPT realm="orders"');
  });

  it('passError hands AccessDeniedError and the missing-credentials error to the app', async () => {
    const url = await guarded('spiffe://example.org/ns/prod/sa/shipping', { passError: true });
    const denied = await fetch(url, proof());
    expect(denied.status).toBe(499);
    expect(await denied.json()).toEqual({ passed: 'access_denied' });
    const missing = await fetch(url);
    expect(await missing.json()).toEqual({ passed: 'credentials_missing' });
  });

  it('reads req.wimse set by any authenticating middleware (e.g. the passport strategy)', async () => {
    const setByOther: RequestHandler = (req, _res, next) => {
      authenticator.authenticate({ url: req.originalUrl, headers: req.headersDistinct }).then((principal) => {
        (req as WimseRequest).wimse = principal;
        (req as WimseRequest & { user?: unknown }).user = principal;
        next();
      }, next);
    };
    const url = await guarded(CALLER_ID, {}, setByOther);
    expect((await fetch(url, proof())).status).toBe(200);
  });

  it('validates the spec when created', () => {
    expect(() => requireWorkload([])).toThrow(TypeError);
    expect(() => requireWorkload('spiffe://example.org/ns/sa-*')).toThrow(TypeError);
    expect(() => requireWorkload('spiffe://*/ns/prod')).toThrow(TypeError);
    expect(() => requireWorkload('not an identifier')).toThrow();
    expect(() => requireWorkload(undefined as unknown as AuthorizerSpec)).toThrow(TypeError);
  });
});
