import {
  type CustomDecorator,
  createParamDecorator,
  type ExecutionContext,
  SetMetadata,
} from '@nestjs/common';
import {
  type Authorizer,
  type AuthorizerSpec,
  allowTrustDomains,
  type SpiffeId as CoreSpiffeId,
  type TrustDomain as CoreTrustDomain,
  grpcPrincipalOf,
  requireProofOfPossession,
  toAuthorizer,
  type WorkloadPrincipal,
} from '@wimse-auth/core';
import { WIMSE_METADATA } from './constants.js';
import { grpcMetadataOfContext } from './grpc.js';
import type { WimseHttpRequest } from './http.js';

// ----- Route metadata (class or method; the method's value overrides the class's) -----

/**
 * No workload authentication at all for this route or controller, even under a global
 * `WimseGuard`: credentials are not read (`@Workload()` is `undefined`). For "authenticate if
 * credentials are present", use {@link OptionalAuthentication}.
 */
export function PublicRoute(isPublic = true): CustomDecorator<string> {
  return SetMetadata(WIMSE_METADATA.publicRoute, isPublic);
}

/**
 * Credentials are optional: a request without any workload credential passes with no
 * principal; a present but invalid credential still fails (401). Route policies
 * (`@AllowWorkloads`…) still require a principal.
 */
export function OptionalAuthentication(optional = true): CustomDecorator<string> {
  return SetMetadata(WIMSE_METADATA.optionalAuthentication, optional);
}

/**
 * Allows only these workload identifiers and path patterns (`*` = one segment, a final `**` =
 * one or more; see the core's `allowPathPattern`); others get 403 `access_denied`. Validated
 * now, so a typo fails at startup.
 */
export function AllowWorkloads(...idsOrPatterns: string[]): CustomDecorator<string> {
  return SetMetadata(WIMSE_METADATA.allowWorkloads, toAuthorizer(idsOrPatterns));
}

/** Allows only workloads of these trust domains; others get 403 `access_denied`. */
export function AllowTrustDomains(...trustDomains: Array<string | CoreTrustDomain>): CustomDecorator<string> {
  return SetMetadata(WIMSE_METADATA.allowTrustDomains, allowTrustDomains(...trustDomains));
}

/**
 * Only callers that proved possession of their key (WIT + WPT); bearer JWT-SVID callers get
 * 403 `access_denied`. `@RequireProofOfPossession(false)` on a method lifts a class-level one.
 */
export function RequireProofOfPossession(required = true): CustomDecorator<string> {
  return SetMetadata(WIMSE_METADATA.requireProofOfPossession, required ? requireProofOfPossession() : null);
}

/**
 * Any core policy: an `Authorizer` (`allowIf`, `anyOf`, `allOf`…), an identifier, a pattern or
 * a list of them. Applies in addition to the other policy decorators.
 */
export function WorkloadPolicy(spec: AuthorizerSpec): CustomDecorator<string> {
  return SetMetadata(WIMSE_METADATA.workloadPolicy, toAuthorizer(spec));
}

/** The metadata keys holding authorizers, in evaluation order. */
export const POLICY_KEYS = [
  WIMSE_METADATA.allowTrustDomains,
  WIMSE_METADATA.allowWorkloads,
  WIMSE_METADATA.requireProofOfPossession,
  WIMSE_METADATA.workloadPolicy,
] as const;

export type PolicyMetadata = Authorizer | null | undefined;

// ----- Parameter decorators -----

function principalOf(ctx: ExecutionContext): WorkloadPrincipal | undefined {
  if (ctx.getType() === 'rpc') return grpcPrincipalOf(grpcMetadataOfContext(ctx));
  return ctx.switchToHttp().getRequest<WimseHttpRequest>().wimse;
}

/** The authenticated `WorkloadPrincipal` (`undefined` on public or optional routes without one). */
export const Workload = createParamDecorator((_data: unknown, ctx) => principalOf(ctx));

/** Options of {@link SpiffeId}. */
export interface SpiffeIdOptions {
  /** `true`: the parsed core `SpiffeId` object instead of its string. */
  parse?: boolean;
}

const spiffeIdParam = createParamDecorator(
  (data: SpiffeIdOptions | undefined, ctx): string | CoreSpiffeId | undefined => {
    const spiffeId = principalOf(ctx)?.spiffeId;
    return data?.parse === true ? spiffeId : spiffeId?.toString();
  },
);

/**
 * The caller's SPIFFE ID as a string (`spiffe://example.org/ns/prod/sa/billing`), or with
 * `{ parse: true }` the core `SpiffeId` object. `undefined` when there is no principal or its
 * identifier is not a SPIFFE ID (a `wimse://` workload identifier).
 */
export function SpiffeId(options: SpiffeIdOptions = {}): ParameterDecorator {
  return spiffeIdParam(options);
}

/** The caller's trust domain name (`example.org`). */
export const TrustDomain = createParamDecorator((_data: unknown, ctx) => principalOf(ctx)?.trustDomain);
