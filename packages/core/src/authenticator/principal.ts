import type { CredentialKind } from '../errors/errors.js';
import type { SpiffeId } from '../identifiers/spiffe-id.js';
import type { JoseHeader } from '../jose/compact-token.js';

/** Details of the WIT and proof behind a `wpt` principal. */
export interface WitDetails {
  readonly header: Readonly<JoseHeader>;
  readonly claims: Readonly<Record<string, unknown>>;
  /** The proof (WPT) that accompanied this request. */
  readonly proof: {
    readonly header: Readonly<JoseHeader>;
    readonly claims: Readonly<Record<string, unknown>>;
    readonly jti: string;
    readonly expiresAt: Date;
  };
}

/**
 * The authenticated caller, as adapters expose it (profile decision 8). Carries no token
 * material except `accessToken`, which is non-enumerable so that logging or serialising
 * the principal does not leak it.
 */
export interface WorkloadPrincipal {
  /** The workload identifier URI (`spiffe://…` or `wimse://…`). */
  readonly id: string;
  /** The parsed SPIFFE ID, when `id` is one. */
  readonly spiffeId?: SpiffeId;
  /** The trust domain name (the identifier's authority). */
  readonly trustDomain: string;
  /** `wpt`: proof of possession (WIT + WPT); `jwt-svid`: a bearer JWT-SVID. */
  readonly credential: 'wpt' | 'jwt-svid';
  /** The exact form the credential arrived in. */
  readonly credentialForm: CredentialKind;
  /** Claims of the identity token (the WIT or the JWT-SVID). */
  readonly claims: Readonly<Record<string, unknown>>;
  /** When the identity token expires. */
  readonly expiresAt: Date;
  /** The WIT and proof, for `wpt` principals. */
  readonly wit?: WitDetails;
  /** An OAuth access token that came with the request and is bound to the proof by `ath`. */
  readonly accessToken?: string;
}

/** Builds a frozen principal, hiding the access token from enumeration. */
export function createPrincipal(
  fields: Omit<WorkloadPrincipal, 'accessToken'>,
  accessToken?: string,
): WorkloadPrincipal {
  const principal = { ...fields };
  if (accessToken !== undefined) {
    Object.defineProperty(principal, 'accessToken', { value: accessToken, enumerable: false });
  }
  return Object.freeze(principal);
}
