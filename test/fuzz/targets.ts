// The fuzz targets. The compact-token parser and the credential extraction are internal
// modules of @wimse-auth/core (not in its public API), so they are loaded from source by
// path: vitest transforms them, and this test project's typecheck does not pull core's
// sources in. Their shapes are restated narrowly here; the identifier parsers are public.
export interface CompactTokenModule {
  parseCompactToken(
    token: string,
    what: string,
    maxLength?: number,
  ): { readonly raw: string; readonly header: Record<string, unknown>; readonly encodedPayload: string };
}

export type CredentialKind = 'wpt-authorization' | 'wpt-header' | 'jwt-svid';

export type Presented =
  | { kind: 'wpt-authorization' | 'wpt-header'; wit: string; wpt: string; accessToken: string | undefined }
  | { kind: 'jwt-svid'; token: string };

export interface CredentialsModule {
  extractCredentials(
    headers: Record<string, string | string[] | undefined>,
    accept: ReadonlySet<CredentialKind>,
  ): Presented;
  locateCredentials(
    headers: Record<string, string | string[] | undefined>,
    accept: ReadonlySet<CredentialKind>,
  ): Presented;
  checkAuthorizationToken(token: string): void;
}

const CORE_SRC = new URL('../../packages/core/src/', import.meta.url);

async function load<T>(relative: string): Promise<T> {
  return (await import(/* @vite-ignore */ new URL(relative, CORE_SRC).href)) as T;
}

export const loadCompactToken = () => load<CompactTokenModule>('jose/compact-token.ts');
export const loadCredentials = () => load<CredentialsModule>('authenticator/credentials.ts');

/**
 * Inputs per property: a seeded slice in the normal test run, at least 100,000 under
 * `npm run fuzz` (which sets WIMSE_FUZZ_RUNS). The seed is fixed unless WIMSE_FUZZ_SEED says
 * otherwise, so a failure in CI reproduces locally; fast-check prints seed and path.
 */
export function fuzzParameters(): { numRuns: number; seed: number } {
  const runs = Number(process.env.WIMSE_FUZZ_RUNS ?? 2000);
  const seed = Number(process.env.WIMSE_FUZZ_SEED ?? 20_261_123);
  if (!Number.isSafeInteger(runs) || runs <= 0) throw new Error('WIMSE_FUZZ_RUNS must be a positive integer');
  if (!Number.isSafeInteger(seed)) throw new Error('WIMSE_FUZZ_SEED must be an integer');
  return { numRuns: runs, seed };
}

/** Calls `action`, returning its result or the error it threw (so properties can classify both). */
export function attempt<T>(action: () => T): { ok: true; value: T } | { ok: false; error: unknown } {
  try {
    return { ok: true, value: action() };
  } catch (error) {
    return { ok: false, error };
  }
}
