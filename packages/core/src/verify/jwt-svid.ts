import { AuthenticationError } from '../errors/errors.js';
import { InvalidSpiffeIdError, SpiffeId } from '../identifiers/spiffe-id.js';
import { JWT_SVID_ALGORITHMS } from '../jose/algorithms.js';
import {
  type CompactToken,
  decodeClaims,
  type JoseHeader,
  parseCompactToken,
} from '../jose/compact-token.js';
import type { BundleSource } from '../trust/bundle-source.js';
import type { JwtBundle } from '../trust/jwt-bundle.js';
import { audienceMatches, audienceValues, normalisedAudiences } from './audience.js';
import {
  checkIssuer,
  type IssuerPolicy,
  nowInSeconds,
  type ResolvedTime,
  resolveTimeOptions,
  type TimeOptions,
} from './common-options.js';
import { verifySignature } from './signature.js';
import { checkValidityWindow, requiredExpiry } from './time-claims.js';
import { signingKeyFor, verificationKey } from './trust-keys.js';

const WHAT = 'JWT-SVID';

/** Options of {@link verifyJwtSvid}. */
export interface VerifyJwtSvidOptions extends TimeOptions {
  /** Where the trust domain's `jwt-svid` keys come from. */
  trust: BundleSource;
  /** Audiences this service identifies with; the token's `aud` must contain one. Required, never empty. */
  audience: string | readonly string[];
  /** Further restricts the allowed algorithms (subset of RS/ES/PS 256/384/512). */
  algorithms?: readonly string[];
  /** Accept keys that carry no SPIFFE `use` (plain JWKS, Workload API bundles). Default true. */
  allowUnmarkedKeys?: boolean;
  /** Allowed `iss` per trust domain. */
  issuers?: IssuerPolicy;
  /** Longest token accepted, in characters. Default 16384. */
  maxTokenLength?: number;
}

/** A JWT-SVID whose signature, subject and claims were verified. */
export interface VerifiedJwtSvid {
  readonly spiffeId: SpiffeId;
  readonly header: Readonly<JoseHeader>;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly expiresAt: Date;
}

/** A JWT-SVID verified up to (not including) the per-request audience and time checks. */
export interface SignedJwtSvid {
  readonly svid: VerifiedJwtSvid;
  readonly exp: number;
  /** `aud`, normalised once for the per-request audience check. */
  readonly audiences: ReadonlySet<string>;
  /** The bundle that verified it; caches drop the entry when the source returns another. */
  readonly bundle: JwtBundle;
}

/** Settings of the JWT-SVID verifier after defaults and validation. */
export interface JwtSvidSettings {
  readonly trust: BundleSource;
  readonly algorithms: readonly string[];
  readonly allowUnmarkedKeys: boolean;
  readonly issuers: IssuerPolicy | undefined;
  readonly maxTokenLength: number | undefined;
  readonly time: ResolvedTime;
}

/** Validates verifier options once, at construction time. */
export function resolveJwtSvidSettings(options: Omit<VerifyJwtSvidOptions, 'audience'>): JwtSvidSettings {
  const algorithms = options.algorithms ?? JWT_SVID_ALGORITHMS;
  for (const alg of algorithms) {
    if (!JWT_SVID_ALGORITHMS.includes(alg)) throw new TypeError(`JWT-SVID algorithm ${alg} is not allowed`);
  }
  return {
    trust: options.trust,
    algorithms,
    allowUnmarkedKeys: options.allowUnmarkedKeys ?? true,
    issuers: options.issuers,
    maxTokenLength: options.maxTokenLength,
    time: resolveTimeOptions(options),
  };
}

/**
 * Verifies everything about a JWT-SVID that does not depend on the request or the time:
 * structure, algorithm, type, subject, trust domain, key and signature, issuer.
 */
export async function verifyJwtSvidSignature(
  token: string,
  settings: JwtSvidSettings,
): Promise<SignedJwtSvid> {
  const parsed: CompactToken = parseCompactToken(token, WHAT, settings.maxTokenLength);
  const { header } = parsed;
  // typ first: a WIT (typ wit+jwt) presented as a bearer token must fail as the wrong type
  // of token whatever its algorithm.
  if (header.typ !== undefined && header.typ !== 'JWT' && header.typ !== 'JOSE') {
    throw new AuthenticationError('invalid_type', `${WHAT} "typ" header must be JWT or JOSE`);
  }
  if (!settings.algorithms.includes(header.alg)) {
    throw new AuthenticationError('unsupported_algorithm', `${WHAT} algorithm is not allowed`);
  }
  const claims = decodeClaims(parsed, WHAT);
  if (typeof claims.sub !== 'string')
    throw new AuthenticationError('invalid_claims', `${WHAT} is missing "sub"`);
  let spiffeId: SpiffeId;
  try {
    spiffeId = SpiffeId.parse(claims.sub);
  } catch (cause) {
    const reason = cause instanceof InvalidSpiffeIdError ? cause.reason : 'invalid';
    throw new AuthenticationError('invalid_subject', `${WHAT} "sub" is not a SPIFFE ID (${reason})`, {
      cause,
    });
  }
  const exp = requiredExpiry(claims, WHAT);
  const audiences = audienceValues(claims.aud);
  if (audiences === undefined)
    throw new AuthenticationError('invalid_claims', `${WHAT} "aud" is missing or malformed`);
  const { bundle, key } = await signingKeyFor(
    settings.trust,
    spiffeId.trustDomain,
    header,
    { purpose: 'jwt-svid', allowUnmarked: settings.allowUnmarkedKeys, requireKid: true },
    WHAT,
  );
  await verifySignature(parsed, await verificationKey(key, header.alg, WHAT), header.alg, WHAT);
  checkIssuer(settings.issuers, spiffeId.trustDomain.name, claims, WHAT);
  return {
    svid: { spiffeId, header, claims, expiresAt: new Date(exp * 1000) },
    exp,
    audiences: normalisedAudiences(audiences),
    bundle,
  };
}

/**
 * The checks repeated on every use of a (possibly cached) signed JWT-SVID: audience and time.
 * @throws AuthenticationError `audience_mismatch`, `token_expired`, `token_not_yet_valid`, `issued_in_future`
 */
export function checkJwtSvidUse(
  signed: SignedJwtSvid,
  acceptable: readonly string[],
  time: ResolvedTime,
): void {
  if (!audienceMatches(signed.audiences, acceptable)) {
    throw new AuthenticationError('audience_mismatch', `${WHAT} audience does not include this service`);
  }
  checkJwtSvidTime(signed, time);
}

/** The time half of {@link checkJwtSvidUse}, for a token whose audience is already known to match. */
export function checkJwtSvidTime(signed: SignedJwtSvid, time: ResolvedTime): void {
  checkValidityWindow(signed.svid.claims, signed.exp, nowInSeconds(time.clock), time.tolerance, WHAT);
}

/**
 * Verifies a SPIFFE JWT-SVID (JWT-SVID.md §4): RS/ES/PS algorithms only, `typ` absent or
 * JWT/JOSE, `sub` a SPIFFE ID whose trust domain's `jwt-svid` key (selected by the
 * required `kid`) signed it, `aud` containing one of `options.audience`, `exp` required.
 * @throws AuthenticationError, or TrustUnavailableError when trust material is unavailable
 */
export async function verifyJwtSvid(token: string, options: VerifyJwtSvidOptions): Promise<VerifiedJwtSvid> {
  const acceptable = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (acceptable.length === 0) throw new TypeError('verifyJwtSvid needs at least one audience');
  const settings = resolveJwtSvidSettings(options);
  const signed = await verifyJwtSvidSignature(token, settings);
  checkJwtSvidUse(signed, acceptable, settings.time);
  return signed.svid;
}
