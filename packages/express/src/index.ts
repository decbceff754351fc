/**
 * Express glue for `@wimse-auth/core`: `app.use(wimse(options))` authenticates the calling
 * workload and sets `req.wimse`; `requireWorkload(spec)` authorizes it per route.
 *
 * Everything that decides anything (credential extraction, verification, audience, replay,
 * policies, error rendering) is the core's; this module only maps Express requests and
 * responses to it.
 */
import {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthenticatorSource,
  type AuthorizerSpec,
  authenticateRequest,
  authenticatorFrom,
  authorize,
  type ChallengeOptions,
  type CredentialKind,
  credentialsMissingError,
  errorResponse,
  type HttpRequestLike,
  isWimseError,
  nodeRequestHeaders,
  toAuthorizer,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/**
 * An Express request that may carry the authenticated workload. For those who prefer no
 * global augmentation; `import '@wimse-auth/express/augment'` adds `wimse` to every
 * `Express.Request` instead.
 */
export type WimseRequest = Request & { wimse?: WorkloadPrincipal };

/** How a middleware of this package reports a failure. */
export interface FailureOptions {
  /**
   * `false` (default): answer the request with the core's error response (status,
   * `WWW-Authenticate` challenges, `application/problem+json` body). `true`: call
   * `next(error)` with the core `WimseError` and let the application's error handler decide.
   */
  passError?: boolean;
  /** `realm` auth-param added to the `WWW-Authenticate` challenges. */
  realm?: string;
}

/** Options of {@link wimse} that belong to this adapter (not to the core authenticator). */
export interface WimseMiddlewareOptions extends FailureOptions {
  /**
   * `true` (default): a request without any workload credential fails with 401
   * `credentials_missing`. `false`: such a request continues with `req.wimse` unset; a
   * credential that is present but invalid still fails.
   */
  credentialsRequired?: boolean;
}

type NoCoreOptions = { [K in keyof AuthenticatorOptions]?: never };

/**
 * Options of {@link wimse}: the core {@link AuthenticatorOptions} (the authenticator is
 * built once, here), or `{ authenticator }` with one built by `createAuthenticator`; plus
 * the adapter's own {@link WimseMiddlewareOptions}.
 */
export type WimseOptions = WimseMiddlewareOptions &
  ((AuthenticatorOptions & { authenticator?: never }) | ({ authenticator: Authenticator } & NoCoreOptions));

/** The middleware {@link wimse} returns. */
export type WimseMiddleware = RequestHandler & {
  /** The core authenticator this middleware uses (for its `accept` list, or to share it). */
  readonly authenticator: Authenticator;
};

/** Options of {@link requireWorkload}. */
export interface RequireWorkloadOptions extends FailureOptions {
  /**
   * Credential forms to challenge for in the 401 sent when no workload was authenticated.
   * Default: all. Pass `wimse(...).authenticator.accept` to match the authenticator.
   */
  accept?: readonly CredentialKind[];
}

function resolveAuthenticator(options: WimseOptions): Authenticator {
  if (options === null || typeof options !== 'object') return authenticatorFrom(options);
  const { credentialsRequired: _c, passError: _p, realm: _r, ...source } = options;
  return authenticatorFrom(source as AuthenticatorSource);
}

function challengeOptions(
  accept: readonly CredentialKind[] | undefined,
  realm: string | undefined,
): ChallengeOptions {
  const options: ChallengeOptions = {};
  if (accept !== undefined) options.accept = accept;
  if (realm !== undefined) options.realm = realm;
  return options;
}

/** The framework-neutral request the core reads. */
function coreRequest(req: Request): HttpRequestLike {
  return {
    method: req.method,
    url: req.originalUrl,
    headers: nodeRequestHeaders(req),
    connection: req.socket,
  };
}

/**
 * Ends a failed request: the core's error response, or `next(error)` when the app asked for
 * it, when the error is not ours, or when a response has already started. Never throws.
 */
function fail(
  error: unknown,
  res: Response,
  next: NextFunction,
  passError: boolean,
  challenges: ChallengeOptions,
): void {
  if (passError || !isWimseError(error) || res.headersSent) {
    next(error);
    return;
  }
  try {
    const { status, headers, body } = errorResponse(error, challenges);
    res.statusCode = status;
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.end(JSON.stringify(body));
  } catch (renderError) {
    next(renderError);
  }
}

/**
 * Express middleware (Express 5 and 4) that authenticates the calling workload with the core
 * authenticator and sets `req.wimse` to the {@link WorkloadPrincipal}.
 *
 * The authenticator is built once, now, so invalid options throw here (at startup). Per
 * request the middleware never throws and its promise never rejects: failures are answered
 * (or passed to `next` with `passError: true`).
 */
export function wimse(options: WimseOptions): WimseMiddleware {
  const authenticator = resolveAuthenticator(options);
  const optional = options.credentialsRequired === false;
  const passError = options.passError === true;
  const challenges = challengeOptions(authenticator.accept, options.realm);

  const proceed = (req: Request, next: NextFunction, principal: WorkloadPrincipal | undefined): void => {
    if (principal !== undefined) (req as WimseRequest).wimse = principal;
    next();
  };
  // Not async: a repeated credential the core answers from its cache costs no promise here.
  const middleware = (req: Request, res: Response, next: NextFunction): void | Promise<void> => {
    let outcome: WorkloadPrincipal | undefined | Promise<WorkloadPrincipal | undefined>;
    try {
      outcome = authenticateRequest(authenticator, coreRequest(req), !optional);
    } catch (error) {
      fail(error, res, next, passError, challenges);
      return;
    }
    // next() runs outside the authentication's error handling: an error in a later
    // middleware is not an authentication failure.
    if (!(outcome instanceof Promise)) return proceed(req, next, outcome);
    return outcome.then(
      (principal) => proceed(req, next, principal),
      (error: unknown) => fail(error, res, next, passError, challenges),
    );
  };
  return Object.assign(middleware, { authenticator }) as WimseMiddleware;
}

/**
 * Route-level authorization: allows the request when `req.wimse` (set by {@link wimse}, or by
 * the `@wimse-auth/passport` strategy) satisfies `spec`, an authorizer, a workload
 * identifier, a path pattern or a list of them (see the core's `toAuthorizer`).
 *
 * No authenticated workload: 401 `credentials_missing` with challenges. Denied: 403
 * `access_denied`. An invalid `spec` throws now, at startup.
 */
export function requireWorkload(spec: AuthorizerSpec, options: RequireWorkloadOptions = {}): RequestHandler {
  const authorizer = toAuthorizer(spec);
  const passError = options.passError === true;
  const challenges = challengeOptions(options.accept, options.realm);

  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    try {
      const principal = (req as WimseRequest).wimse;
      if (principal === undefined) {
        throw credentialsMissingError();
      }
      await authorize(principal, authorizer);
    } catch (error) {
      fail(error, res, next, passError, challenges);
      return;
    }
    next();
  };
}
