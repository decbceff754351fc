// Pieces that need no HTTP server: the exception, startup validation of decorators, non-HTTP contexts.
import type { ExecutionContext } from '@nestjs/common';
import { HttpException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import {
  AccessDeniedError,
  createAuthenticator,
  credentialsMissingError,
  TrustUnavailableError,
} from '@wimse-auth/core';
import { describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import {
  AllowTrustDomains,
  AllowWorkloads,
  WIMSE_METADATA,
  WimseAuthService,
  WimseGuard,
  WimseHttpException,
} from '../src/index.js';
import { ORIGIN } from './support.js';

const td = createTestTrustDomain();
const authenticator = createAuthenticator({ trust: td.trust, audience: { origins: [ORIGIN] } });

describe('WimseHttpException', () => {
  it('is an HttpException carrying the core rendering', () => {
    const error = credentialsMissingError();
    const exception = new WimseHttpException(error, { realm: 'r' });
    expect(exception).toBeInstanceOf(HttpException);
    expect(exception.getStatus()).toBe(401);
    expect(exception.getResponse()).toMatchObject({ status: 401, code: 'credentials_missing' });
    expect(exception.headers['www-authenticate']).toEqual(['WPT realm="r"', 'Bearer realm="r"']);
    expect(exception.headers['content-type']).toBe('application/problem+json');
    expect(exception.cause).toBe(error);
    expect(exception.wimseError).toBe(error);
  });

  it('403 and 503 carry no challenges', () => {
    const denied = new WimseHttpException(new AccessDeniedError('no'));
    expect(denied.getStatus()).toBe(403);
    expect(denied.headers['www-authenticate']).toBeUndefined();
    expect(new WimseHttpException(new TrustUnavailableError('down')).getStatus()).toBe(503);
  });
});

describe('WimseAuthService.toHttpException', () => {
  const service = new WimseAuthService(authenticator, { authenticator, realm: 'svc' });

  it('sets WWW-Authenticate and Cache-Control on an Express/Node response', () => {
    const set: Record<string, unknown> = {};
    const response = { setHeader: (name: string, value: unknown) => (set[name] = value) };
    const exception = service.toHttpException(credentialsMissingError(), response);
    expect(exception.getStatus()).toBe(401);
    expect(set).toEqual({
      'cache-control': 'no-store',
      'www-authenticate': ['WPT realm="svc"', 'Bearer realm="svc"'],
    });
  });

  it('uses header() on a Fastify reply', () => {
    const set: Record<string, unknown> = {};
    const reply = { raw: {}, header: (name: string, value: unknown) => (set[name] = value) };
    service.toHttpException(credentialsMissingError(), reply);
    expect(Object.keys(set).sort()).toEqual(['cache-control', 'www-authenticate']);
  });

  it('returns other errors unchanged', () => {
    const other = new Error('boom');
    expect(service.toHttpException(other)).toBe(other);
  });
});

describe('policy decorators validate at startup', () => {
  it('rejects partial-segment wildcards, empty lists and bad trust domains', () => {
    expect(() => AllowWorkloads('spiffe://example.org/ns/sa-*')).toThrow(/whole segments/);
    expect(() => AllowWorkloads()).toThrow(TypeError);
    expect(() => AllowWorkloads('not a uri')).toThrow();
    expect(() => AllowTrustDomains()).toThrow(TypeError);
    expect(() => AllowTrustDomains('Example.ORG')).toThrow();
  });

  it('stores core authorizers under the documented metadata keys', () => {
    const decorator = AllowWorkloads('spiffe://example.org/ns/*/sa/admin');
    expect(decorator.KEY).toBe(WIMSE_METADATA.allowWorkloads);
  });
});

describe('WimseGuard outside HTTP', () => {
  it('fails closed for RPC and WebSocket contexts', () => {
    const service = new WimseAuthService(authenticator, { authenticator });
    const guard = new WimseGuard(new Reflector(), service);
    for (const type of ['rpc', 'ws']) {
      const context = { getType: () => type } as unknown as ExecutionContext;
      // Nest turns a guard's synchronous throw into the request's failure, as it does a rejection.
      expect(() => guard.canActivate(context)).toThrow(/HTTP routes and gRPC methods only/);
    }
  });
});

describe('WimseGuard on HTTP without a server', () => {
  const service = new WimseAuthService(authenticator, { authenticator });
  const guard = new WimseGuard(new Reflector(), service);
  class Orders {
    list(): void {}
    @AllowWorkloads('spiffe://example.org/ns/prod/sa/admin')
    admin(): void {}
  }
  // Nest's own context for an HTTP route: arguments (request, response, next).
  const httpContext = (handler: () => void, req: Record<string, unknown>): ExecutionContext =>
    new ExecutionContextHost([req, { setHeader: () => undefined }, () => undefined], Orders, handler);
  const token = td.issueJwtSvid(ORIGIN);
  const request = () => ({ method: 'GET', url: '/orders', headers: { authorization: `Bearer ${token}` } });

  it('decides a repeated JWT-SVID on a route without policy synchronously', async () => {
    // Verified twice, then cached.
    for (let i = 0; i < 2; i++) {
      await expect(guard.canActivate(httpContext(Orders.prototype.list, request()))).resolves.toBe(true);
    }
    const req: Record<string, unknown> = request();
    expect(guard.canActivate(httpContext(Orders.prototype.list, req))).toBe(true);
    expect((req.wimse as { id: string }).id).toBe(CALLER_ID);
    expect(req.user).toBe(req.wimse);
  });

  it("keeps each handler's own policy: the same caller is refused on a route that does not allow it", async () => {
    const refused = guard.canActivate(httpContext(Orders.prototype.admin, request()));
    expect(refused).toBeInstanceOf(Promise);
    await expect(refused).rejects.toMatchObject({ status: 403 });
    expect(guard.canActivate(httpContext(Orders.prototype.list, request()))).toBe(true);
  });
});
