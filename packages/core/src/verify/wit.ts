import { AuthenticationError } from '../errors/errors.js';
import { TrustDomain } from '../identifiers/spiffe-id.js';
import { InvalidWorkloadIdentifierError, WorkloadIdentifier } from '../identifiers/workload-identifier.js';
import { JWT_SVID_ALGORITHMS, WIMSE_ALGORITHMS } from '../jose/algorithms.js';
import {
  decodeClaims,
  type JoseHeader,
  normaliseMediaType,
  parseCompactToken,
} from '../jose/compact-token.js';
import type { BundleSource } from '../trust/bundle-source.js';
import type { JwtBundle } from '../trust/jwt-bundle.js';
import { sha256Base64Url } from '../util/base64url.js';
import {
  checkIssuer,
  type IssuerPolicy,
  nowInSeconds,
  type ResolvedTime,
  resolveTimeOptions,
  type TimeOptions,
} from './common-options.js';
import { type ConfirmationKey, importConfirmationKey } from './confirmation-key.js';
import { verifySignature } from './signature.js';
import { checkValidityWindow, requiredExpiry } from './time-claims.js';
import { signingKeyFor, verificationKey } from './trust-keys.js';

const WHAT = 'WIT';

/**
 * Which WIT profile to enforce. `wimse`: the IETF drafts (any asymmetric algorithm,
 * `kid` optional when the trust domain has one WIT key). `wit-svid`: SPIFFE WIT-SVID.md
 * (SPIFFE ID subject, `kid` required, RS/ES/PS only, exact `typ`, no `aud`).
 */
export type WitProfile = 'wimse' | 'wit-svid';

/** Compatibility switches for peers that implement older drafts. Off by default. */
export interface LegacyOptions {
  /** Accept the s2s-00…06 media types `wimse-id+jwt` and `wimse-proof+jwt`. */
  typ?: boolean;
  /** Infer a missing `cnf.jwk.alg` (pre-s2s-04 WITs) from an EC or Ed25519 key. */
  inferConfirmationAlg?: boolean;
}

/** Options of {@link verifyWit}. */
export interface VerifyWitOptions extends TimeOptions {
  /** Where each trust domain's WIT signing keys come from. */
  trust: BundleSource;
  /** Profile to enforce. Default `wimse`. */
  profile?: WitProfile;
  /** Further restricts the algorithms allowed for the WIT signature and `cnf.jwk.alg`. */
  algorithms?: readonly string[];
  /** Accept keys that carry no SPIFFE `use` (plain JWKS, Workload API bundles). Default true. */
  allowUnmarkedKeys?: boolean;
  /** Allowed `iss` per trust domain. */
  issuers?: IssuerPolicy;
  /** Older-draft compatibility. */
  legacy?: LegacyOptions;
  /** Longest token accepted, in characters. Default 16384. */
  maxTokenLength?: number;
}

/** A WIT whose signature and claims were verified, with its imported confirmation key. */
export interface VerifiedWit {
  /** The workload identifier (`sub`). */
  readonly identifier: WorkloadIdentifier;
  readonly header: Readonly<JoseHeader>;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly expiresAt: Date;
  /** The proof-of-possession key every WPT must be signed with. */
  readonly confirmation: ConfirmationKey;
  /** base64url(SHA-256(WIT)), the value a bound proof's `wth` must carry. */
  readonly tokenHash: string;
}

/** A verified WIT plus what a cache needs to know to keep or drop it. */
export interface SignedWit {
  readonly wit: VerifiedWit;
  readonly trustDomain: TrustDomain;
  readonly exp: number;
  readonly bundle: JwtBundle;
}

/** Settings of the WIT verifier after defaults and validation. */
export interface WitSettings {
  readonly trust: BundleSource;
  readonly profile: WitProfile;
  readonly algorithms: readonly string[];
  readonly allowUnmarkedKeys: boolean;
  readonly issuers: IssuerPolicy | undefined;
  readonly legacyTyp: boolean;
  readonly inferConfirmationAlg: boolean;
  readonly maxTokenLength: number | undefined;
  readonly time: ResolvedTime;
}

/** Validates WIT verifier options once, at construction time. */
export function resolveWitSettings(options: VerifyWitOptions): WitSettings {
  const profile = options.profile ?? 'wimse';
  if (profile !== 'wimse' && profile !== 'wit-svid')
    throw new TypeError(`unknown WIT profile ${String(profile)}`);
  const profileAlgorithms = profile === 'wit-svid' ? JWT_SVID_ALGORITHMS : WIMSE_ALGORITHMS;
  const algorithms = options.algorithms ?? profileAlgorithms;
  for (const alg of algorithms) {
    if (!profileAlgorithms.includes(alg))
      throw new TypeError(`algorithm ${alg} is not allowed for WITs (${profile})`);
  }
  return {
    trust: options.trust,
    profile,
    algorithms,
    allowUnmarkedKeys: options.allowUnmarkedKeys ?? true,
    issuers: options.issuers,
    legacyTyp: options.legacy?.typ ?? false,
    inferConfirmationAlg: options.legacy?.inferConfirmationAlg ?? false,
    maxTokenLength: options.maxTokenLength,
    time: resolveTimeOptions(options),
  };
}

function checkWitType(typ: string | undefined, settings: WitSettings): void {
  if (typ !== undefined) {
    if (settings.profile === 'wit-svid' ? typ === 'wit+jwt' : normaliseMediaType(typ) === 'wit+jwt') return;
    if (settings.legacyTyp && normaliseMediaType(typ) === 'wimse-id+jwt') return;
  }
  throw new AuthenticationError('invalid_type', `${WHAT} "typ" header must be wit+jwt`);
}

function parseSubject(claims: Record<string, unknown>, settings: WitSettings): WorkloadIdentifier {
  if (typeof claims.sub !== 'string')
    throw new AuthenticationError('invalid_claims', `${WHAT} is missing "sub"`);
  let identifier: WorkloadIdentifier;
  try {
    identifier = WorkloadIdentifier.parse(claims.sub);
  } catch (cause) {
    const reason = cause instanceof InvalidWorkloadIdentifierError ? cause.reason : 'invalid';
    throw new AuthenticationError(
      'invalid_subject',
      `${WHAT} "sub" is not a workload identifier (${reason})`,
      {
        cause,
      },
    );
  }
  if (settings.profile === 'wit-svid' && identifier.spiffeId === undefined) {
    throw new AuthenticationError(
      'invalid_subject',
      `${WHAT} "sub" must be a SPIFFE ID under the WIT-SVID profile`,
    );
  }
  return identifier;
}

/**
 * Verifies everything about a WIT that does not depend on the time: structure, type,
 * algorithm, subject, trust domain, key, signature, issuer and confirmation key.
 */
export async function verifyWitSignature(token: string, settings: WitSettings): Promise<SignedWit> {
  const parsed = parseCompactToken(token, WHAT, settings.maxTokenLength);
  const { header } = parsed;
  checkWitType(header.typ, settings);
  if (!settings.algorithms.includes(header.alg)) {
    throw new AuthenticationError('unsupported_algorithm', `${WHAT} algorithm is not allowed`);
  }
  const claims = decodeClaims(parsed, WHAT);
  const identifier = parseSubject(claims, settings);
  const exp = requiredExpiry(claims, WHAT);
  const trustDomain = TrustDomain.tryParse(identifier.trustDomain);
  // Bundles are keyed by SPIFFE trust domain names; an authority outside that syntax
  // (for example an upper-case host in a wimse:// URI) can have no configured trust.
  if (trustDomain === undefined) {
    throw new AuthenticationError(
      'untrusted_trust_domain',
      `${WHAT} subject belongs to an untrusted trust domain`,
    );
  }
  const { bundle, key } = await signingKeyFor(
    settings.trust,
    trustDomain,
    header,
    {
      purpose: 'wit-svid',
      allowUnmarked: settings.allowUnmarkedKeys,
      requireKid: settings.profile === 'wit-svid',
    },
    WHAT,
  );
  await verifySignature(parsed, await verificationKey(key, header.alg, WHAT), header.alg, WHAT);
  checkIssuer(settings.issuers, identifier.trustDomain, claims, WHAT);
  if (settings.profile === 'wit-svid' && claims.aud !== undefined) {
    throw new AuthenticationError(
      'invalid_claims',
      `${WHAT} must not carry "aud" under the WIT-SVID profile`,
    );
  }
  const confirmation = await importConfirmationKey(claims, {
    algorithms: settings.algorithms,
    inferMissingAlg: settings.inferConfirmationAlg,
  });
  return {
    wit: {
      identifier,
      header,
      claims,
      expiresAt: new Date(exp * 1000),
      confirmation,
      tokenHash: sha256Base64Url(token),
    },
    trustDomain,
    exp,
    bundle,
  };
}

/**
 * The time checks repeated on every use of a (possibly cached) verified WIT.
 * @throws AuthenticationError `token_expired`, `token_not_yet_valid`, `issued_in_future`
 */
export function checkWitUse(signed: SignedWit, time: ResolvedTime): void {
  checkValidityWindow(signed.wit.claims, signed.exp, nowInSeconds(time.clock), time.tolerance, WHAT);
}

/**
 * Verifies a Workload Identity Token (draft-ietf-wimse-workload-creds §5.1): `typ`
 * wit+jwt, an allowed asymmetric algorithm, a valid workload identifier `sub` whose trust
 * domain's `wit-svid` key signed it, `exp`, `nbf`/`iat` in range, an allowed issuer if
 * configured, and an asymmetric public `cnf.jwk` with an allowed `alg`.
 * @throws AuthenticationError, or TrustUnavailableError when trust material is unavailable
 */
export async function verifyWit(token: string, options: VerifyWitOptions): Promise<VerifiedWit> {
  const settings = resolveWitSettings(options);
  const signed = await verifyWitSignature(token, settings);
  checkWitUse(signed, settings.time);
  return signed.wit;
}
