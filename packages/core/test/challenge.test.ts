import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  AuthenticationError,
  errorResponse,
  problemDetails,
  TrustUnavailableError,
  wwwAuthenticate,
} from '../src/index.js';

describe('WWW-Authenticate and problem details', () => {
  it('challenges every accepted scheme, with the error on the one that was tried', () => {
    const error = new AuthenticationError('token_expired', 'WPT has expired', {
      credential: 'wpt-authorization',
    });
    expect(wwwAuthenticate(error)).toEqual(['WPT error="token_expired"', 'Bearer']);
    const bearer = new AuthenticationError('audience_mismatch', 'x', { credential: 'jwt-svid' });
    expect(wwwAuthenticate(bearer, { realm: 'orders' })).toEqual([
      'WPT realm="orders"',
      'Bearer realm="orders", error="invalid_token", error_description="audience_mismatch"',
    ]);
  });

  it('sends bare challenges for missing credentials and none for 403/503', () => {
    expect(wwwAuthenticate(new AuthenticationError('credentials_missing', 'none'))).toEqual([
      'WPT',
      'Bearer',
    ]);
    expect(wwwAuthenticate(new AccessDeniedError('no'))).toEqual([]);
    expect(wwwAuthenticate(new TrustUnavailableError('down'))).toEqual([]);
    expect(wwwAuthenticate(undefined, { accept: ['jwt-svid'] })).toEqual(['Bearer']);
    const malformed = new AuthenticationError('credentials_malformed', 'bad');
    expect(wwwAuthenticate(malformed)).toEqual([
      'WPT error="credentials_malformed"',
      'Bearer error="invalid_request", error_description="credentials_malformed"',
    ]);
  });

  it('renders an RFC 9457 body and response headers', () => {
    const error = new TrustUnavailableError('trust bundle source failed', {
      cause: new Error('secret detail'),
    });
    expect(problemDetails(error)).toEqual({
      type: 'urn:wimse-auth:error:trust_unavailable',
      title: 'Trust material unavailable',
      status: 503,
      detail: 'trust bundle source failed',
      code: 'trust_unavailable',
    });
    const response = errorResponse(new AuthenticationError('replay_detected', 'used'), {
      accept: ['wpt-header'],
    });
    expect(response.status).toBe(401);
    expect(response.headers['www-authenticate']).toEqual(['WPT error="replay_detected"']);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(JSON.stringify(response.body)).not.toContain('secret detail');
  });

  it('errors carry code, status, expose and statusCode', () => {
    const error = new AccessDeniedError('no');
    expect(error).toMatchObject({ code: 'access_denied', status: 403, statusCode: 403, expose: true });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('AccessDeniedError');
  });
});

describe('isWimseError', () => {
  it('recognises errors by brand across module copies, not only by instanceof', async () => {
    const { isWimseError, credentialsMissingError } = await import('../src/index.js');
    const foreign = Object.assign(new Error('x'), {
      [Symbol.for('@wimse-auth/core.WimseError')]: true,
      code: 'x',
    });
    expect(isWimseError(foreign)).toBe(true);
    expect(isWimseError(new Error('plain'))).toBe(false);
    expect(isWimseError(null)).toBe(false);
    expect(credentialsMissingError()).toMatchObject({ code: 'credentials_missing', status: 401 });
  });
});
