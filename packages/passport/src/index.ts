// Passport strategy 'wimse': framework glue only. Verification, error classification and
// WWW-Authenticate challenges all come from @wimse-auth/core.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  type Authenticator,
  type AuthenticatorSource,
  authenticateRequest,
  authenticatorFrom,
  isWimseError,
  nodeRequestHeaders,
  type WimseError,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
// passport is CommonJS (`module.exports = new Passport(); exports.Strategy = ...`). A namespace
// import works everywhere: Node ESM sees `Strategy` as a named export (cjs-module-lexer), the
// CJS build reads it off `require('passport')`, and the emitted .d.ts/.d.cts need no
// esModuleInterop (the form @types/passport-* use).
import * as passport from 'passport';

/**
 * The request passport hands to a strategy: Express's `req` (a Node `IncomingMessage`), or
 * koa-passport's stand-in for it (which delegates to `ctx.request`).
 */
export interface PassportRequest {
  method?: string | undefined;
  url?: string | undefined;
  /** Express and Koa: the request target as received, before any mount point rewrote `url`. */
  originalUrl?: string | undefined;
  headers: IncomingHttpHeaders;
  /** Every header field line as received, so duplicate `Authorization` fields are not lost. */
  rawHeaders?: readonly string[] | undefined;
  /** Node 18.3+: every header field line, grouped by name. */
  headersDistinct?: IncomingMessage['headersDistinct'] | undefined;
  /** Node's connection; koa-passport's stand-in has none (Node's request is `ctx.req`). */
  socket?: object | undefined;
}

/** What a verify function yields: the user, or `false`/`null`/`undefined` for "no user". */
export type VerifyResult<User> = User | false | null | undefined;

/** Passport-style completion callback of a verify function. */
export type VerifyDone<User> = (error: unknown, user?: VerifyResult<User>, info?: object) => void;

/** What a verify function returns: nothing (callback form), or the user, possibly as a promise. */
export type VerifyReturn<User> =
  // biome-ignore lint/suspicious/noConfusingVoidType: callback-form verify functions return nothing
  void | VerifyResult<User> | PromiseLike<VerifyResult<User>>;

/**
 * Maps the authenticated workload to `req.user`, in one of two forms, told apart by arity
 * (`verify.length`):
 * - `(principal, done)` — callback form: call `done(err)`, `done(null, user[, info])` or
 *   `done(null, false)`;
 * - `(principal)` — return the user, or a promise of it (an `async` function).
 *
 * `length` counts the parameters before the first one with a default value or a rest
 * parameter, so declare `done` as a plain parameter.
 */
export type Verify<User> = (principal: WorkloadPrincipal, done: VerifyDone<User>) => VerifyReturn<User>;

/** {@link Verify} with `passReqToCallback: true`: `(req, principal, done)` or `(req, principal)`. */
export type VerifyWithRequest<User> = (
  req: PassportRequest,
  principal: WorkloadPrincipal,
  done: VerifyDone<User>,
) => VerifyReturn<User>;

/** Settings of the strategy itself. */
export interface WimseStrategySettings {
  /** Strategy name for `passport.authenticate(name)`. Default `'wimse'`. */
  name?: string;
  /** `realm` auth-param added to every `WWW-Authenticate` challenge. */
  realm?: string;
  /**
   * `false`: a request carrying no workload credential passes (`this.pass()`: `req.user` stays
   * unset) while a present but invalid credential still fails with 401. Default `true`.
   * Use this rather than `['wimse', 'anonymous']` when a forged or expired credential must
   * not be downgraded to an anonymous request.
   */
  credentialsRequired?: boolean;
}

/** Either the core authenticator options, or a prebuilt core `Authenticator`. */
export type WimseAuthenticatorSource = AuthenticatorSource;

/** Options of {@link WimseStrategy} (verify receives `(principal, …)`). */
export type WimseStrategyOptions = WimseAuthenticatorSource &
  WimseStrategySettings & { passReqToCallback?: false };

/** Options of {@link WimseStrategy} with `passReqToCallback: true` (verify receives `(req, principal, …)`). */
export type WimseStrategyOptionsWithRequest = WimseAuthenticatorSource &
  WimseStrategySettings & { passReqToCallback: true };

type AnyVerify = (...args: never[]) => unknown;

/** Internal view of what passport and koa-passport hand to `authenticate`. */
interface RequestInternals extends PassportRequest {
  wimse?: WorkloadPrincipal;
  /** koa-passport: the Koa context (`ctx.req` is Node's request, `ctx.state` the Koa state). */
  ctx?: { req?: PassportRequest; state?: Record<string, unknown> };
}

type Outcome<User> =
  | {
      readonly action: 'success';
      readonly principal: WorkloadPrincipal;
      readonly user: User;
      readonly info: object | undefined;
    }
  | { readonly action: 'fail'; readonly challenge: string }
  | { readonly action: 'pass' }
  | { readonly action: 'error'; readonly error: unknown };

/** The core request: target as received, and every header field line when Node keeps them. */
function coreRequest(req: RequestInternals) {
  // koa-passport's request stand-in delegates `headers` to Koa but not Node's other header
  // views: read those from Node's request, which koa-passport exposes as `req.ctx.req`.
  const headers = nodeRequestHeaders(req, req.ctx?.req);
  const connection = req.ctx?.req?.socket ?? req.socket;
  return { method: req.method, url: req.originalUrl ?? req.url, headers, connection };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}

function isAuthenticationFailure(error: unknown): error is WimseError {
  return isWimseError(error) && error.status === 401;
}

/**
 * Passport strategy authenticating the calling workload (WIT + WPT, or a SPIFFE JWT-SVID)
 * with `@wimse-auth/core`.
 *
 * - success: `req.user` = the verify result (default: the `WorkloadPrincipal`), and
 *   `req.wimse` (koa-passport: `ctx.state.wimse`) = the principal;
 * - missing or invalid credential: `fail(challenges, 401)`, the challenges being the core's
 *   `WWW-Authenticate` values joined with `', '`;
 * - trust source or replay store unavailable (503 `trust_unavailable`), verify errors:
 *   `error(err)`.
 *
 * `User` is what `verify` yields: inferred from a return-form verify, `unknown` otherwise;
 * give it explicitly (`new WimseStrategy<Service>(…)`) to type-check a callback form's `done`.
 */
export class WimseStrategy<User = unknown> extends passport.Strategy {
  override name: string;
  /** The core authenticator this strategy uses. */
  readonly authenticator: Authenticator;
  // Plain (not #private) fields: passport runs `authenticate` on `Object.create(strategy)`,
  // which reaches prototype properties but not private fields.
  private readonly wimseRealm: string | undefined;
  private readonly wimseCredentialsRequired: boolean;
  private readonly wimsePassReq: boolean;
  private readonly wimseVerify: AnyVerify | undefined;

  // One function type per overload (not a union of the two forms), so that arrow functions'
  // parameters are contextually typed whichever form they take.
  constructor(options: WimseStrategyOptions, verify?: Verify<User>);
  constructor(options: WimseStrategyOptionsWithRequest, verify: VerifyWithRequest<User>);
  constructor(options: WimseStrategyOptions | WimseStrategyOptionsWithRequest, verify?: AnyVerify) {
    super();
    if (options === null || typeof options !== 'object') {
      throw new TypeError('WimseStrategy options are required');
    }
    const { name, realm, credentialsRequired, passReqToCallback, ...source } = options;
    if (verify !== undefined && typeof verify !== 'function') {
      throw new TypeError('verify must be a function');
    }
    if (passReqToCallback === true && verify === undefined) {
      throw new TypeError('passReqToCallback needs a verify function');
    }
    this.authenticator = authenticatorFrom(source as AuthenticatorSource);
    this.name = name ?? 'wimse';
    this.wimseRealm = realm;
    this.wimseCredentialsRequired = credentialsRequired ?? true;
    this.wimsePassReq = passReqToCallback === true;
    this.wimseVerify = verify;
  }

  /** Called by passport for each request; answers through success/fail/pass/error. */
  override authenticate(req: PassportRequest, _options?: unknown): void {
    const request = req as RequestInternals;
    void this.decide(request).then((outcome) => {
      switch (outcome.action) {
        case 'success':
          return this.succeed(request, outcome.principal, outcome.user, outcome.info);
        case 'fail':
          return this.fail(outcome.challenge, 401);
        case 'pass':
          return this.pass();
        case 'error':
          return this.error(outcome.error);
      }
    });
  }

  /** Authenticates and maps; never rejects, so exactly one passport action follows. */
  private async decide(req: RequestInternals): Promise<Outcome<User>> {
    let principal: WorkloadPrincipal | undefined;
    try {
      const request = coreRequest(req);
      principal = await authenticateRequest(this.authenticator, request, this.wimseCredentialsRequired);
    } catch (error) {
      if (isAuthenticationFailure(error)) return { action: 'fail', challenge: this.challenge(error) };
      return { action: 'error', error };
    }
    if (principal === undefined) return { action: 'pass' };
    try {
      const [user, info] = await this.mapPrincipal(req, principal);
      if (user === undefined || user === null || user === false) {
        return { action: 'fail', challenge: this.challenge(undefined) };
      }
      return { action: 'success', principal, user, info };
    } catch (error) {
      return { action: 'error', error };
    }
  }

  private challenge(error: WimseError | undefined): string {
    const options = this.wimseRealm === undefined ? {} : { realm: this.wimseRealm };
    return this.authenticator.challenges(error, options).join(', ');
  }

  /**
   * Runs verify. Callback form when it declares the `done` parameter (`verify.length` ≥ 2,
   * ≥ 3 with `passReqToCallback`), otherwise its (awaited) return value is the user.
   */
  private mapPrincipal(
    req: RequestInternals,
    principal: WorkloadPrincipal,
  ): Promise<[VerifyResult<User>, object | undefined]> {
    const verify = this.wimseVerify as ((...args: unknown[]) => unknown) | undefined;
    if (verify === undefined) return Promise.resolve([principal as User, undefined]);
    const args: unknown[] = this.wimsePassReq ? [req, principal] : [principal];
    if (verify.length > args.length) {
      return new Promise((resolve, reject) => {
        let settled = false;
        const fail = (error: unknown) => {
          if (settled) return;
          settled = true;
          reject(error);
        };
        const done: VerifyDone<User> = (error, user, info) => {
          if (settled) return; // only the first call to done counts
          if (error !== null && error !== undefined) return fail(error);
          settled = true;
          resolve([user, info]);
        };
        try {
          const returned = verify(...args, done);
          // An async callback-form verify that throws before calling done must not hang.
          if (isThenable(returned)) returned.then(undefined, fail);
        } catch (error) {
          fail(error);
        }
      });
    }
    return Promise.resolve()
      .then(() => verify(...args) as VerifyResult<User> | PromiseLike<VerifyResult<User>>)
      .then((user) => [user, undefined]);
  }

  private succeed(
    req: RequestInternals,
    principal: WorkloadPrincipal,
    user: User,
    info: object | undefined,
  ): void {
    // Set only on success, so a principal the verify function refused never reaches
    // requireWorkload (for example after falling through to passport-anonymous).
    req.wimse = principal;
    // koa-passport: `req` is a per-call stand-in; the Koa adapter reads `ctx.state.wimse`.
    const state = req.ctx?.state;
    if (typeof state === 'object' && state !== null) state.wimse = principal;
    this.success(user as Express.User, info);
  }
}
