/**
 * Every stable error code the verifier can produce. Codes are part of the public
 * contract: adapters, logs and dashboards key on them, so they never change meaning.
 */
export type AuthenticationErrorCode =
  | 'credentials_missing'
  | 'credentials_malformed'
  | 'unsupported_algorithm'
  | 'invalid_type'
  | 'invalid_signature'
  | 'unknown_key'
  | 'untrusted_trust_domain'
  | 'invalid_subject'
  | 'invalid_claims'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'issued_in_future'
  | 'issuer_mismatch'
  | 'audience_mismatch'
  | 'wit_binding_mismatch'
  | 'token_binding_mismatch'
  | 'proof_lifetime_too_long'
  | 'replay_detected';

/** All error codes, including authorization (403) and trust-availability (503) failures. */
export type WimseErrorCode = AuthenticationErrorCode | 'access_denied' | 'trust_unavailable';

/** Which credential the failing request presented, when it got far enough to tell. */
export type CredentialKind = 'wpt-authorization' | 'wpt-header' | 'jwt-svid';

/** Options shared by every error constructor. */
export interface WimseErrorOptions {
  /** The underlying error (for example a jose or network error). Never rendered to clients. */
  cause?: unknown;
  /** The credential form the request used, so challenges can name the scheme that failed. */
  credential?: CredentialKind;
}

// A registry symbol, so errors are recognised across the ESM and CommonJS copies of this
// package (the dual-package hazard makes `instanceof` fail between them).
const WIMSE_ERROR_BRAND = Symbol.for('@wimse-auth/core.WimseError');

/**
 * Base class of every error this library throws while authenticating or authorizing.
 *
 * `message` is safe to send to clients and to log: it never contains a token, key,
 * signature or claim value taken from the request.
 */
export abstract class WimseError extends Error {
  /** Stable machine-readable code. */
  abstract readonly code: WimseErrorCode;
  /** HTTP status the code maps to (401, 403 or 503). */
  abstract readonly status: 401 | 403 | 503;
  /** Koa/http-errors convention: the message is safe to expose to the client. */
  readonly expose = true;
  /** The credential form the request used, if known. */
  readonly credential: CredentialKind | undefined;
  readonly [WIMSE_ERROR_BRAND] = true;

  constructor(message: string, options: WimseErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.credential = options.credential;
  }

  /** Kept for http-errors/Koa compatibility (`err.statusCode`). */
  get statusCode(): number {
    return this.status;
  }
}

/** 401: the request did not prove which workload sent it. */
export class AuthenticationError extends WimseError {
  override readonly name = 'AuthenticationError';
  readonly code: AuthenticationErrorCode;
  readonly status = 401 as const;

  constructor(code: AuthenticationErrorCode, message: string, options?: WimseErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** 403: the caller is authenticated, but policy does not allow it here. */
export class AccessDeniedError extends WimseError {
  override readonly name = 'AccessDeniedError';
  readonly code = 'access_denied' as const;
  readonly status = 403 as const;
}

/**
 * 503: trust material (a bundle, the replay store) is unavailable, so the request
 * cannot be judged either way. Fails closed; callers may retry.
 */
export class TrustUnavailableError extends WimseError {
  override readonly name = 'TrustUnavailableError';
  readonly code = 'trust_unavailable' as const;
  readonly status = 503 as const;
}

/**
 * True for any error produced by this library, including errors from the other module
 * format's copy of it (an app mixing `require` and `import` loads two).
 */
export function isWimseError(value: unknown): value is WimseError {
  return (
    value instanceof WimseError ||
    (typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[WIMSE_ERROR_BRAND] === true)
  );
}

/** The error for a request that carries no workload credential (401 `credentials_missing`). */
export function credentialsMissingError(): AuthenticationError {
  return new AuthenticationError('credentials_missing', 'no workload credentials were presented');
}

/** Copies `error` with the credential form attached, keeping code, message and cause. */
export function withCredential(error: WimseError, credential: CredentialKind): WimseError {
  if (error.credential === credential) return error;
  const options: WimseErrorOptions = { credential };
  if (error.cause !== undefined) options.cause = error.cause;
  if (error instanceof AuthenticationError)
    return new AuthenticationError(error.code, error.message, options);
  if (error instanceof AccessDeniedError) return new AccessDeniedError(error.message, options);
  return new TrustUnavailableError(error.message, options);
}
