import { HttpException } from '@nestjs/common';
import { type ChallengeOptions, errorResponse, type ProblemDetails, type WimseError } from '@wimse-auth/core';

/**
 * A core `WimseError` as a Nest `HttpException`: status 401/403/503, the core's RFC 9457
 * problem body as the response (so `{ status, code, ... }` reaches the client through Nest's
 * default exception filter), the headers the response should carry (`WWW-Authenticate`
 * challenges for 401, `Cache-Control: no-store`, `Content-Type: application/problem+json`)
 * and the core error as `cause`.
 */
export class WimseHttpException extends HttpException {
  /** The core error. */
  readonly wimseError: WimseError;
  /** Headers for the response (lower-case names), rendered by the core's `errorResponse`. */
  readonly headers: Readonly<Record<string, string | readonly string[]>>;

  constructor(error: WimseError, options: ChallengeOptions = {}) {
    const { status, headers, body } = errorResponse(error, options);
    super(body, status, { cause: error });
    this.name = 'WimseHttpException';
    this.wimseError = error;
    this.headers = headers;
  }

  /** The problem body. */
  override getResponse(): ProblemDetails {
    return super.getResponse() as ProblemDetails;
  }
}
