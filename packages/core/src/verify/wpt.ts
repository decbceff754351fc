import { AuthenticationError } from '../errors/errors.js';
import { WIMSE_ALGORITHMS } from '../jose/algorithms.js';
import {
  type JoseHeader,
  normaliseMediaType,
  parseCompactToken,
  parseJsonBytes,
} from '../jose/compact-token.js';
import { sha256Base64Url, timingSafeEqualString } from '../util/base64url.js';
import { audienceMatches, audienceValues } from './audience.js';
import { nowInSeconds, type ResolvedTime, resolveTimeOptions, type TimeOptions } from './common-options.js';
import { verifyJwsSignature } from './jws-signature.js';
import { checkValidityWindow, numericDate, requiredExpiry } from './time-claims.js';
import type { LegacyOptions, VerifiedWit } from './wit.js';

const WHAT = 'WPT';
/** Default and upper bound of how far ahead a proof may expire, in seconds (profile decision 5). */
export const DEFAULT_MAX_PROOF_LIFETIME = 300;
/** `jti` values longer than this are refused: replay stores must not be fed huge keys. */
const MAX_JTI_LENGTH = 256;

/**
 * What the proof must be bound to in this request. Built by the authenticator from the
 * HTTP request; callers of {@link verifyWpt} build it themselves.
 */
export interface ProofBinding {
  /** Acceptable audiences (the target URI, aliases); the proof's `aud` must match one. */
  audience: string | readonly string[];
  /** The OAuth access token sent with the request (`Authorization: Bearer`), bound by `ath`. */
  accessToken?: string | undefined;
  /** The `Txn-Token` header value, bound by `tth`. */
  txnToken?: string | undefined;
  /**
   * Other identity or authorization-context tokens the service understands, by lower-case
   * header name, as present in the request. Each must be bound by the `oth` entry of the
   * same name, and every `oth` entry must name one of them.
   */
  otherTokens?: Readonly<Record<string, string>> | undefined;
}

/** Options of {@link verifyWpt}. */
export interface VerifyWptOptions extends TimeOptions {
  /** Longest accepted proof lifetime in seconds, measured from now (and from `iat` if present). Default 300. */
  maxProofLifetime?: number;
  /** Older-draft compatibility (`legacy.typ` accepts `wimse-proof+jwt`). */
  legacy?: LegacyOptions;
  /** Longest token accepted, in characters. Default 16384. */
  maxTokenLength?: number;
}

/** A proof whose signature, binding and claims were verified. */
export interface VerifiedWpt {
  readonly header: Readonly<JoseHeader>;
  readonly claims: Readonly<Record<string, unknown>>;
  /** The proof's unique identifier, to be remembered against replay. */
  readonly jti: string;
  readonly expiresAt: Date;
}

/** Settings of the WPT verifier after defaults and validation. */
export interface WptSettings {
  readonly maxProofLifetime: number;
  readonly legacyTyp: boolean;
  readonly maxTokenLength: number | undefined;
  readonly time: ResolvedTime;
}

/** Validates WPT verifier options once, at construction time. */
export function resolveWptSettings(options: VerifyWptOptions): WptSettings {
  const maxProofLifetime = options.maxProofLifetime ?? DEFAULT_MAX_PROOF_LIFETIME;
  if (!Number.isFinite(maxProofLifetime) || maxProofLifetime <= 0) {
    throw new TypeError('maxProofLifetime must be a positive number of seconds');
  }
  return {
    maxProofLifetime,
    legacyTyp: options.legacy?.typ ?? false,
    maxTokenLength: options.maxTokenLength,
    time: resolveTimeOptions(options),
  };
}

function bindingMismatch(detail: string): AuthenticationError {
  return new AuthenticationError('token_binding_mismatch', `${WHAT} ${detail}`);
}

/** Checks one `ath`/`tth`-style hash claim against the token it must bind (or its absence). */
function checkTokenHash(claim: unknown, token: string | undefined, name: string, tokenName: string): void {
  if (token === undefined) {
    if (claim !== undefined)
      throw bindingMismatch(`"${name}" binds a ${tokenName} the request does not carry`);
    return;
  }
  if (typeof claim !== 'string')
    throw bindingMismatch(`is missing "${name}" for the ${tokenName} in the request`);
  if (!timingSafeEqualString(claim, sha256Base64Url(token))) {
    throw bindingMismatch(`"${name}" does not match the ${tokenName} in the request`);
  }
}

function checkOtherTokens(claim: unknown, tokens: Readonly<Record<string, string>> | undefined): void {
  const present = tokens === undefined ? [] : Object.keys(tokens);
  if (claim === undefined) {
    if (present.length > 0) throw bindingMismatch('is missing "oth" for other tokens in the request');
    return;
  }
  if (typeof claim !== 'object' || claim === null || Array.isArray(claim)) {
    throw new AuthenticationError('invalid_claims', `${WHAT} "oth" claim must be a JSON object`);
  }
  const entries = claim as Record<string, unknown>;
  // Every entry must be understood (an unknown entry means a token we cannot check).
  for (const name of Object.keys(entries)) {
    const token = tokens !== undefined && Object.hasOwn(tokens, name) ? tokens[name] : undefined;
    if (token === undefined) throw bindingMismatch('"oth" has an entry this service does not understand');
    const hash = entries[name];
    if (typeof hash !== 'string' || !timingSafeEqualString(hash, sha256Base64Url(token.trim()))) {
      throw bindingMismatch('"oth" does not match a token in the request');
    }
  }
  for (const name of present) {
    if (!Object.hasOwn(entries, name))
      throw bindingMismatch('"oth" does not cover every token in the request');
  }
}

/**
 * Verifies a Workload Proof Token (draft-ietf-wimse-wpt §2) against an already verified
 * WIT: `alg` string-equal to `cnf.jwk.alg`, `typ` wpt+jwt, signature by the confirmation
 * key, `wth` equal to the WIT's hash, `aud` matching the binding, `exp` present, not
 * passed and not beyond `maxProofLifetime`, a bounded `jti`, and `ath`/`tth`/`oth`
 * binding exactly the tokens in the request. Replay is the caller's job (the
 * authenticator does it with a ReplayStore).
 * @throws AuthenticationError
 */
export async function verifyWpt(
  wpt: string,
  wit: VerifiedWit,
  binding: ProofBinding,
  options: VerifyWptOptions | WptSettings = {},
): Promise<VerifiedWpt> {
  const settings = 'time' in options ? options : resolveWptSettings(options);
  const parsed = parseCompactToken(wpt, WHAT, settings.maxTokenLength);
  const { header } = parsed;
  if (!WIMSE_ALGORITHMS.includes(header.alg)) {
    throw new AuthenticationError('unsupported_algorithm', `${WHAT} algorithm is not allowed`);
  }
  if (header.alg !== wit.confirmation.alg) {
    throw new AuthenticationError(
      'unsupported_algorithm',
      `${WHAT} algorithm differs from the WIT's "cnf.jwk.alg"`,
    );
  }
  const typ = header.typ === undefined ? undefined : normaliseMediaType(header.typ);
  if (typ !== 'wpt+jwt' && !(settings.legacyTyp && typ === 'wimse-proof+jwt')) {
    throw new AuthenticationError('invalid_type', `${WHAT} "typ" header must be wpt+jwt`);
  }
  // Claims are read only after the signature is checked.
  const claims = parseJsonBytes(
    await verifyJwsSignature(parsed, wit.confirmation.keyObject, header.alg, WHAT),
    WHAT,
    'payload',
  );

  if (typeof claims.wth !== 'string')
    throw new AuthenticationError('invalid_claims', `${WHAT} is missing "wth"`);
  if (!timingSafeEqualString(claims.wth, wit.tokenHash)) {
    throw new AuthenticationError(
      'wit_binding_mismatch',
      `${WHAT} "wth" does not match the WIT in the request`,
    );
  }

  const audiences = audienceValues(claims.aud);
  if (audiences === undefined)
    throw new AuthenticationError('invalid_claims', `${WHAT} "aud" is missing or malformed`);
  const acceptable = typeof binding.audience === 'string' ? [binding.audience] : binding.audience;
  if (!audienceMatches(audiences, acceptable)) {
    throw new AuthenticationError('audience_mismatch', `${WHAT} audience is not this request's target`);
  }

  const exp = requiredExpiry(claims, WHAT);
  const now = nowInSeconds(settings.time.clock);
  checkValidityWindow(claims, exp, now, settings.time.tolerance, WHAT);
  const iat = numericDate(claims, 'iat', WHAT);
  if (
    exp - now > settings.maxProofLifetime + settings.time.tolerance ||
    (iat !== undefined && exp - iat > settings.maxProofLifetime)
  ) {
    throw new AuthenticationError(
      'proof_lifetime_too_long',
      `${WHAT} lifetime exceeds ${settings.maxProofLifetime}s`,
    );
  }

  const jti = claims.jti;
  if (typeof jti !== 'string' || jti.length === 0 || jti.length > MAX_JTI_LENGTH) {
    throw new AuthenticationError('invalid_claims', `${WHAT} "jti" is missing or not a short string`);
  }

  checkTokenHash(claims.ath, binding.accessToken, 'ath', 'access token');
  checkTokenHash(claims.tth, binding.txnToken, 'tth', 'Txn-Token');
  checkOtherTokens(claims.oth, binding.otherTokens);

  return { header, claims, jti, expiresAt: new Date(exp * 1000) };
}
