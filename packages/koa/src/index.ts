// Koa glue for @wimse-auth/core: every decision (credential extraction, verification, audience,
// replay, challenges, problem bodies) is the core's. This file only maps a Koa context to the
// core's request shape and the core's errors to Koa's error convention.
import type { IncomingMessage } from 'node:http';
import {
  type Authenticator,
  type AuthenticatorOptions,
  type AuthenticatorSource,
  type AuthorizerSpec,
  authenticateRequest,
  authenticatorFrom,
  authorize,
  type ChallengeOptions,
  credentialsMissingError,
  errorResponse,
  isWimseError,
  nodeRequestHeaders,
  toAuthorizer,
  WimseError,
  type WimseErrorCode,
  type WorkloadPrincipal,
} from '@wimse-auth/core';

/**
 * What the middleware adds to `ctx.state`. Use it as the state type of your app or router
 * (`new Koa<WimseState>()`, `new Router<WimseState>()`) to get `ctx.state.wimse` typed.
 */
export interface WimseState {
  /** The authenticated caller; absent only when `credentialsRequired: false` let an anonymous request through. */
  wimse?: WorkloadPrincipal;
}

/**
 * The parts of a Koa (2 or 3) context this package reads. Declared structurally so the
 * package's types do not depend on `@types/koa`; every Koa context satisfies it.
 */
export interface WimseContext {
  readonly method: string;
  /** The request target as received (before any `koa-mount` prefix stripping). */
  readonly originalUrl: string;
  readonly req: IncomingMessage;
  state: WimseState;
}

/** A Koa middleware produced by {@link wimse} or {@link requireWorkload}. */
export type WimseMiddleware = (ctx: WimseContext, next: () => Promise<unknown>) => Promise<void>;

/** Options shared by both ways of configuring {@link wimse}. */
export interface WimseCommonOptions {
  /**
   * `true` (default): a request without credentials fails with 401 `credentials_missing`.
   * `false`: a request carrying no credential at all passes with no `ctx.state.wimse`;
   * a credential that is present and invalid still fails.
   */
  credentialsRequired?: boolean;
  /** `realm` auth-param for the `WWW-Authenticate` challenges. */
  realm?: string;
}

/** Options of {@link wimse} when it builds the authenticator itself. */
export type WimseAuthenticatorOptions = AuthenticatorOptions & WimseCommonOptions;

/** Options of {@link wimse} when given an authenticator built with `createAuthenticator`. */
export interface WimsePrebuiltOptions extends WimseCommonOptions {
  authenticator: Authenticator;
}

/** Options of {@link wimse}: core `AuthenticatorOptions`, or a prebuilt `authenticator`. */
export type WimseOptions = WimseAuthenticatorOptions | WimsePrebuiltOptions;

/** Options of {@link requireWorkload}. */
export interface RequireWorkloadOptions {
  /**
   * Credential forms to challenge when no principal is present. Default: those of the
   * {@link wimse} middleware that ran for the request, else all.
   */
  accept?: ChallengeOptions['accept'];
  /** `realm` for those challenges. Default: that of the {@link wimse} middleware, if any. */
  realm?: string;
}

/**
 * A core {@link WimseError} in Koa's (http-errors) error convention: `status`, `expose: true`
 * and `headers` (`WWW-Authenticate` challenges, `Cache-Control: no-store`), so Koa's default
 * error handling answers with the right status, headers and the safe message.
 *
 * A new instance wraps each failure (the core error is never mutated). It is itself a
 * `WimseError` with the same `code`, `status`, `message` and `credential`, so
 * `isWimseError(err)`, `problemDetails(err)` and `errorResponse(err)` work on it directly;
 * the original core error is `err.cause`.
 */
export class WimseHttpError extends WimseError {
  override readonly name = 'WimseHttpError';
  readonly code: WimseErrorCode;
  readonly status: 401 | 403 | 503;
  /** Response headers for this failure; Koa's default error handler sends them. */
  readonly headers: Record<string, string | string[]>;
  /** The core error this one renders. */
  declare readonly cause: WimseError;

  constructor(error: WimseError, options: ChallengeOptions = {}) {
    super(
      error.message,
      error.credential === undefined ? { cause: error } : { cause: error, credential: error.credential },
    );
    this.code = error.code;
    this.status = error.status;
    // The core decides the headers; the body (and so its content type) is the app's or Koa's.
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(errorResponse(error, options).headers)) {
      if (name !== 'content-type') headers[name] = typeof value === 'string' ? value : [...value];
    }
    this.headers = headers;
  }
}

// Challenge settings of the wimse() middleware that handled a context, for requireWorkload:
// a symbol-keyed property of the context (cheaper per request than a WeakMap entry, and gone
// with the context).
const CHALLENGE_SETTINGS = Symbol('wimse-auth.challenge');
type WithChallenge = { [CHALLENGE_SETTINGS]?: ChallengeOptions };

function toHttpError(error: unknown, options: ChallengeOptions): unknown {
  return isWimseError(error) ? new WimseHttpError(error, options) : error;
}

function resolveAuthenticator(options: WimseOptions): Authenticator {
  if (options === undefined || options === null || typeof options !== 'object')
    return authenticatorFrom(options);
  const { credentialsRequired: _required, realm: _realm, ...source } = options;
  return authenticatorFrom(source as AuthenticatorSource);
}

/**
 * Koa middleware authenticating every request with the core authenticator (built once,
 * here) and setting `ctx.state.wimse` to the caller. Failures are thrown as
 * {@link WimseHttpError}s for Koa's error handling.
 */
export function wimse(options: WimseOptions): WimseMiddleware {
  const authenticator = resolveAuthenticator(options);
  const required = options.credentialsRequired !== false;
  const challenge: ChallengeOptions = { accept: authenticator.accept };
  if (options.realm !== undefined) challenge.realm = options.realm;

  // Not async: a repeated credential the core answers from its cache costs no promise here.
  return function wimseMiddleware(ctx, next) {
    (ctx as WithChallenge)[CHALLENGE_SETTINGS] = challenge;
    const request = {
      method: ctx.method,
      url: ctx.originalUrl,
      headers: nodeRequestHeaders(ctx.req),
      connection: ctx.req.socket,
    };
    let outcome: WorkloadPrincipal | undefined | Promise<WorkloadPrincipal | undefined>;
    try {
      outcome = authenticateRequest(authenticator, request, required);
    } catch (error) {
      return Promise.reject(toHttpError(error, challenge));
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (principal) => proceed(ctx, next, principal),
        (error: unknown) => {
          throw toHttpError(error, challenge);
        },
      );
    }
    return proceed(ctx, next, outcome);
  };
}

function proceed(
  ctx: WimseContext,
  next: () => Promise<unknown>,
  principal: WorkloadPrincipal | undefined,
): Promise<void> {
  if (principal !== undefined) ctx.state.wimse = principal;
  // Handing back next()'s promise instead of awaiting it saves a promise per request.
  return next() as Promise<void>;
}

/**
 * Route-level authorization: lets the request through when the caller (from
 * `ctx.state.wimse`, or `req.wimse` as the passport strategy leaves it) satisfies `spec`.
 * No caller: 401 `credentials_missing` with challenges; denied: 403 `access_denied`.
 * @throws TypeError (or InvalidSpiffeIdError) now, when `spec` is not a valid policy
 */
export function requireWorkload(spec: AuthorizerSpec, options: RequireWorkloadOptions = {}): WimseMiddleware {
  const authorizer = toAuthorizer(spec);

  return async function requireWorkloadMiddleware(ctx, next) {
    const challenge: ChallengeOptions = { ...(ctx as WithChallenge)[CHALLENGE_SETTINGS] };
    if (options.accept !== undefined) challenge.accept = options.accept;
    if (options.realm !== undefined) challenge.realm = options.realm;
    const principal = ctx.state.wimse ?? (ctx.req as { wimse?: WorkloadPrincipal }).wimse;
    if (principal === undefined) {
      throw new WimseHttpError(credentialsMissingError(), challenge);
    }
    try {
      await authorize(principal, authorizer);
    } catch (error) {
      throw toHttpError(error, challenge);
    }
    ctx.state.wimse = principal;
    await next();
  };
}
