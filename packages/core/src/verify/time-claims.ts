import { AuthenticationError } from '../errors/errors.js';

/** Reads an optional NumericDate claim; a present claim must be a finite number. */
export function numericDate(claims: Record<string, unknown>, name: string, what: string): number | undefined {
  const value = claims[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new AuthenticationError('invalid_claims', `${what} "${name}" claim must be a NumericDate`);
  }
  return value;
}

/** Reads the required `exp` claim. */
export function requiredExpiry(claims: Record<string, unknown>, what: string): number {
  const exp = numericDate(claims, 'exp', what);
  if (exp === undefined)
    throw new AuthenticationError('invalid_claims', `${what} is missing the "exp" claim`);
  return exp;
}

/**
 * Applies `exp`, `nbf` and `iat` at `nowSeconds` with `toleranceSeconds` of clock skew.
 * @throws AuthenticationError `token_expired`, `token_not_yet_valid`, `issued_in_future`, `invalid_claims`
 */
export function checkValidityWindow(
  claims: Record<string, unknown>,
  exp: number,
  nowSeconds: number,
  toleranceSeconds: number,
  what: string,
): void {
  if (exp <= nowSeconds - toleranceSeconds)
    throw new AuthenticationError('token_expired', `${what} has expired`);
  const nbf = numericDate(claims, 'nbf', what);
  if (nbf !== undefined && nbf > nowSeconds + toleranceSeconds) {
    throw new AuthenticationError('token_not_yet_valid', `${what} is not valid yet`);
  }
  const iat = numericDate(claims, 'iat', what);
  if (iat !== undefined && iat > nowSeconds + toleranceSeconds) {
    throw new AuthenticationError('issued_in_future', `${what} was issued in the future`);
  }
}
