// Fuzzes credential extraction (packages/core/src/authenticator/credentials.ts) against a
// reference model of RFC 9110 §11.4 credentials and profile decision 1: a request carries
// exactly one workload credential, never two, and a half credential is malformed, never
// downgraded.
import { isWimseError } from '@wimse-auth/core';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { recordHardeningFigure } from '../hostile/report.js';
import {
  attempt,
  type CredentialKind,
  type CredentialsModule,
  fuzzParameters,
  loadCredentials,
  type Presented,
} from './targets.js';

const { extractCredentials, locateCredentials, checkAuthorizationToken }: CredentialsModule =
  await loadCredentials();
const parameters = fuzzParameters();

type Headers = Record<string, string | string[] | undefined>;
type Outcome = Presented | { error: 'credentials_missing' | 'credentials_malformed' };

const values = (headers: Headers, name: string): string[] => {
  const value = headers[name];
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
};

/** `auth-scheme 1*SP token`: the scheme (lower-cased) and a token without whitespace, or malformed. */
function referenceAuthorization(value: string): { scheme: string; token: string } | 'malformed' {
  const match = /^([^ ]+) +(\S+)$/.exec(value);
  return match === null ? 'malformed' : { scheme: match[1]!.toLowerCase(), token: match[2]! };
}

function referenceModel(headers: Headers, accept: ReadonlySet<CredentialKind>): Outcome {
  const malformed = { error: 'credentials_malformed' } as const;
  const wits = values(headers, 'workload-identity-token');
  const authorizations = values(headers, 'authorization');
  const proofHeaders = values(headers, 'workload-proof-token');
  if (wits.length > 1 || authorizations.length > 1) return malformed;
  const authorization = authorizations.length === 0 ? undefined : referenceAuthorization(authorizations[0]!);
  if (authorization === 'malformed') return malformed;
  const proofInAuthorization = authorization?.scheme === 'wpt';
  const proofs = proofHeaders.length + (proofInAuthorization ? 1 : 0);
  if (wits.length === 0) {
    if (proofs > 0) return malformed;
    if (authorization?.scheme === 'bearer' && accept.has('jwt-svid'))
      return { kind: 'jwt-svid', token: authorization.token };
    return { error: 'credentials_missing' };
  }
  if (proofs !== 1) return malformed;
  if (proofInAuthorization) {
    return accept.has('wpt-authorization')
      ? { kind: 'wpt-authorization', wit: wits[0]!, wpt: authorization!.token, accessToken: undefined }
      : malformed;
  }
  if (!accept.has('wpt-header')) return malformed;
  const scheme = authorization?.scheme;
  const accessToken = scheme === 'bearer' || scheme === 'dpop' ? authorization!.token : undefined;
  return { kind: 'wpt-header', wit: wits[0]!, wpt: proofHeaders[0]!, accessToken };
}

const tokenish = fc.oneof(
  fc.constantFrom('eyJ.a.b', 'x', '', 'a,b', 'a b', ' ', '\t'),
  fc.string({ unit: fc.constantFrom(...'ab.-_ ,\t=é\u00a0'.split('')), maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const authorizationValue = fc.oneof(
  fc
    .tuple(
      fc.constantFrom(
        'Bearer',
        'bearer',
        'BEARER',
        'WPT',
        'wpt',
        'wPt',
        'DPoP',
        'dpop',
        'Basic',
        'Token',
        '',
        'Bearer\t',
      ),
      fc.constantFrom(' ', '  ', '', '\t', ' \t'),
      tokenish,
    )
    .map(([scheme, space, token]) => `${scheme}${space}${token}`),
  fc.string({ unit: 'binary', maxLength: 30 }),
);
const field = (value: fc.Arbitrary<string>) =>
  fc.option(fc.oneof(value, fc.array(value, { minLength: 0, maxLength: 3 })), { nil: undefined });

const headersArbitrary = fc.record({
  authorization: field(authorizationValue),
  'workload-identity-token': field(tokenish),
  'workload-proof-token': field(tokenish),
  'txn-token': field(tokenish),
});
const acceptArbitrary = fc
  .subarray<CredentialKind>(['wpt-authorization', 'wpt-header', 'jwt-svid'], { minLength: 1 })
  .map((kinds) => new Set(kinds));

/** The generated fields that are present, as a request's headers. */
const presentFields = (generated: Record<string, string | string[] | undefined>): Headers =>
  Object.fromEntries(Object.entries(generated).filter(([, v]) => v !== undefined)) as Headers;

describe('fuzz: credential extraction', () => {
  afterAll(() => recordHardeningFigure('fuzz:credentials', parameters.numRuns));

  it('matches the reference model exactly, and throws nothing but library errors', () => {
    fc.assert(
      fc.property(headersArbitrary, acceptArbitrary, (generated, accept) => {
        const headers = presentFields(generated);
        const expected = referenceModel(headers, accept);
        const result = attempt(() => extractCredentials(headers, accept));
        if (result.ok) {
          expect({ ...result.value }).toEqual(expected);
          return;
        }
        expect(isWimseError(result.error), `not a library error: ${String(result.error)}`).toBe(true);
        expect({ error: (result.error as { code: string }).code }).toEqual(expected);
      }),
      parameters,
    );
  });

  // The authenticator's hot path defers a bearer token's whitespace check until the token
  // is not a repeat of a verified one; with the check run, the outcome must be the same.
  it('locateCredentials then checkAuthorizationToken decides exactly as extractCredentials', () => {
    fc.assert(
      fc.property(headersArbitrary, acceptArbitrary, (generated, accept) => {
        const headers = presentFields(generated);
        const outcome = (result: ReturnType<typeof attempt<Presented>>) =>
          result.ok ? { ...result.value } : { error: (result.error as { code: string }).code };
        const deferred = attempt(() => {
          const presented = locateCredentials(headers, accept);
          if (presented.kind === 'jwt-svid') checkAuthorizationToken(presented.token);
          return presented;
        });
        expect(outcome(deferred)).toEqual(outcome(attempt(() => extractCredentials(headers, accept))));
      }),
      parameters,
    );
  });
});
