import { Inject, Injectable } from '@nestjs/common';
import {
  type Authenticator,
  type ChallengeOptions,
  type HttpRequestLike,
  isWimseError,
  type WimseError,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import { WIMSE_AUTHENTICATOR, WIMSE_MODULE_OPTIONS } from './constants.js';
import { WimseHttpException } from './exception.js';
import { coreRequest, setResponseHeaders, type WimseHttpRequest } from './http.js';
import { challengeOptionsFor, type WimseModuleOptions } from './options.js';

/**
 * The module's core authenticator, for use in your own providers (`WimseGuard` uses it).
 * `authenticate` and `authenticateIfPresent` take an Express or Fastify request (or a core
 * `HttpRequestLike`) and reject with the core `WimseError`; `toHttpException` turns that
 * into a {@link WimseHttpException}.
 */
@Injectable()
export class WimseAuthService {
  /** Challenge options (accepted forms, realm) used for every failure. */
  readonly challengeOptions: ChallengeOptions;

  constructor(
    @Inject(WIMSE_AUTHENTICATOR) readonly authenticator: Authenticator,
    @Inject(WIMSE_MODULE_OPTIONS) options: WimseModuleOptions,
  ) {
    this.challengeOptions = challengeOptionsFor(authenticator, options);
  }

  /** Authenticates the request; rejects with a `WimseError` (401 or 503). */
  authenticate(request: WimseHttpRequest | HttpRequestLike): Promise<WorkloadPrincipal> {
    return this.authenticator.authenticate(coreRequest(request));
  }

  /** Like {@link authenticate}, but resolves `undefined` when the request carries no credential. */
  authenticateIfPresent(request: WimseHttpRequest | HttpRequestLike): Promise<WorkloadPrincipal | undefined> {
    return this.authenticator.authenticateIfPresent(coreRequest(request));
  }

  /**
   * The `HttpException` for a core error. With `response` (Express `Response` or Fastify
   * `FastifyReply`), also sets `WWW-Authenticate` and `Cache-Control` on it, because Nest's
   * default exception filter does not copy headers from an exception.
   * Anything that is not a `WimseError` is returned unchanged.
   */
  toHttpException(error: WimseError, response?: unknown): WimseHttpException;
  toHttpException(error: unknown, response?: unknown): unknown;
  toHttpException(error: unknown, response?: unknown): unknown {
    if (!isWimseError(error)) return error;
    const exception = new WimseHttpException(error, this.challengeOptions);
    if (response !== undefined) {
      const { 'content-type': _contentType, ...headers } = exception.headers;
      setResponseHeaders(response, headers);
    }
    return exception;
  }
}
