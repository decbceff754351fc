/**
 * Normalises an HTTP(S) target URI for audience comparison: scheme and host lower-cased,
 * default port dropped, query and fragment removed, an empty path read as `/`. The path
 * is compared exactly as sent (no percent-decoding or dot-segment removal), so two
 * spellings of one resource are two audiences. Non-HTTP values (a SPIFFE ID, a plain
 * name) are returned unchanged.
 */
export function normaliseAudience(value: string): string {
  const schemeEnd = value.indexOf('://');
  if (schemeEnd <= 0) return value;
  const scheme = value.slice(0, schemeEnd).toLowerCase();
  if (scheme !== 'https' && scheme !== 'http') return value;
  let end = value.length;
  const query = value.indexOf('?', schemeEnd + 3);
  if (query >= 0) end = query;
  const fragment = value.indexOf('#', schemeEnd + 3);
  if (fragment >= 0 && fragment < end) end = fragment;
  const pathStart = value.indexOf('/', schemeEnd + 3);
  const authorityEnd = pathStart >= 0 && pathStart < end ? pathStart : end;
  let authority = value.slice(schemeEnd + 3, authorityEnd).toLowerCase();
  const defaultPort = scheme === 'https' ? ':443' : ':80';
  if (authority.endsWith(defaultPort)) authority = authority.slice(0, -defaultPort.length);
  const path = authorityEnd < end ? value.slice(authorityEnd, end) : '/';
  return `${scheme}://${authority}${path}`;
}

/**
 * Reads an `aud` claim that may be a string or a non-empty array of strings.
 * Returns `undefined` when the claim is absent or malformed.
 */
export function audienceValues(aud: unknown): readonly string[] | undefined {
  if (typeof aud === 'string') return aud.length > 0 ? [aud] : undefined;
  if (!Array.isArray(aud) || aud.length === 0) return undefined;
  for (const value of aud) if (typeof value !== 'string' || value.length === 0) return undefined;
  return aud as string[];
}

/** The token's `aud` values, normalised once (see {@link normaliseAudience}). */
export function normalisedAudiences(tokenAudiences: readonly string[]): ReadonlySet<string> {
  return new Set(tokenAudiences.map(normaliseAudience));
}

/**
 * True when any value of the token's `aud` equals any acceptable audience, after
 * normalisation. Pass {@link normalisedAudiences} for a token checked many times (a cached
 * JWT-SVID), so its values are normalised once.
 */
export function audienceMatches(
  tokenAudiences: readonly string[] | ReadonlySet<string>,
  acceptable: readonly string[],
): boolean {
  const normalised =
    tokenAudiences instanceof Set ? tokenAudiences : normalisedAudiences(tokenAudiences as readonly string[]);
  // Normalisation is idempotent, so an acceptable value found as it is matches exactly when
  // its normalised form would: the common case (configured origins are stored normalised)
  // then costs no string work.
  for (const expected of acceptable) if (normalised.has(expected)) return true;
  for (const expected of acceptable) if (normalised.has(normaliseAudience(expected))) return true;
  return false;
}
