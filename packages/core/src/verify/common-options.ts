import { AuthenticationError } from '../errors/errors.js';

/** Returns the current time; injectable so tests and vectors can pin it. */
export type Clock = () => Date;

/** Time handling shared by every verifier. */
export interface TimeOptions {
  /** Current time source. Default: the system clock. */
  clock?: Clock;
  /** Accepted clock skew in seconds for `exp`, `nbf` and `iat`. Default 30. */
  clockTolerance?: number;
}

/**
 * Allowed `iss` values per trust domain name. `iss` never selects keys; a trust domain
 * listed here additionally requires the token's `iss` to be one of its values.
 */
export type IssuerPolicy = Readonly<Record<string, readonly string[]>>;

/** Default clock skew tolerance, in seconds (profile decision 6). */
export const DEFAULT_CLOCK_TOLERANCE = 30;

const systemClock: Clock = () => new Date();

/** Resolved time settings: the clock and tolerance with defaults applied and validated. */
export interface ResolvedTime {
  readonly clock: Clock;
  readonly tolerance: number;
}

/** Applies defaults to {@link TimeOptions}, rejecting nonsense values at construction. */
export function resolveTimeOptions(options: TimeOptions): ResolvedTime {
  const tolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new TypeError('clockTolerance must be a non-negative number of seconds');
  }
  return { clock: options.clock ?? systemClock, tolerance };
}

/** The clock's time in (fractional) NumericDate seconds. */
export function nowInSeconds(clock: Clock): number {
  // Without an injected clock, skip the Date object: this runs on every request.
  return clock === systemClock ? Date.now() / 1000 : clock().getTime() / 1000;
}

/** Enforces an {@link IssuerPolicy} for a token of `trustDomain`. */
export function checkIssuer(
  issuers: IssuerPolicy | undefined,
  trustDomain: string,
  claims: Record<string, unknown>,
  what: string,
): void {
  if (issuers === undefined || !Object.hasOwn(issuers, trustDomain)) return;
  const allowed = issuers[trustDomain] ?? [];
  const iss = claims.iss;
  if (typeof iss !== 'string' || !allowed.includes(iss)) {
    throw new AuthenticationError('issuer_mismatch', `${what} issuer is not allowed for its trust domain`);
  }
}
