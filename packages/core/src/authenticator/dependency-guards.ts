import { TrustUnavailableError } from '../errors/errors.js';
import type { TrustDomain } from '../identifiers/spiffe-id.js';
import type { BundleSource } from '../trust/bundle-source.js';
import type { JwtBundle } from '../trust/jwt-bundle.js';

/** Default of `dependencyTimeoutMs`: how long one request waits for trust material or the replay store. */
export const DEFAULT_DEPENDENCY_TIMEOUT_MS = 5000;

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** Validates `dependencyTimeoutMs`. */
export function resolveDependencyTimeout(value: number | undefined): number {
  const timeout = value ?? DEFAULT_DEPENDENCY_TIMEOUT_MS;
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new TypeError('dependencyTimeoutMs must be a positive number of milliseconds');
  }
  return timeout;
}

/**
 * `value`, or a rejection with 503 `trust_unavailable` when it is a promise that does not
 * settle within `timeoutMs`. A synchronous value passes through untouched (no promise, no
 * timer): bundle sources answer from memory on the hot path. The timer is unreferenced and
 * cleared as soon as the promise settles; a promise that settles after the deadline is
 * still observed, so its late rejection is never unhandled.
 */
export function withinDeadline<T>(
  value: T | PromiseLike<T>,
  timeoutMs: number,
  what: string,
): T | Promise<T> {
  if (!isThenable(value)) return value as T;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TrustUnavailableError(`${what} did not answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref?.();
  });
  return Promise.race([Promise.resolve(value), deadline]).finally(() => clearTimeout(timer));
}

/**
 * Checks what a source answered for `trustDomain`: `undefined` (not trusted) or a bundle of
 * exactly that trust domain. Anything else is a broken source, never trust material: a
 * bundle of another trust domain would let that domain's keys sign for this one.
 */
function checkedBundle(answer: unknown, trustDomain: TrustDomain): JwtBundle | undefined {
  if (answer === undefined) return undefined;
  const bundle = answer as Partial<JwtBundle> | null;
  if (
    typeof bundle !== 'object' ||
    bundle === null ||
    typeof bundle.getKey !== 'function' ||
    typeof bundle.keysFor !== 'function' ||
    bundle.trustDomain?.name !== trustDomain.name
  ) {
    throw new TrustUnavailableError(
      'trust bundle source returned something other than this trust domain’s bundle',
    );
  }
  return answer as JwtBundle;
}

function guarded(
  answer: Promise<JwtBundle | undefined> | JwtBundle | undefined,
  trustDomain: TrustDomain,
  timeoutMs: number,
): Promise<JwtBundle | undefined> | JwtBundle | undefined {
  const settled = withinDeadline(answer, timeoutMs, 'trust bundle source');
  return isThenable(settled)
    ? (settled as Promise<JwtBundle | undefined>).then((value) => checkedBundle(value, trustDomain))
    : checkedBundle(settled, trustDomain);
}

/**
 * The same trust source, guarded: every `getBundle` (and `refreshOnUnknownKey`, when the
 * source has it) is bounded by `timeoutMs`, so a source that hangs (a stalled fetch, a lock
 * never released) fails the request closed with 503 instead of holding it forever; and an
 * answer that is not the requested trust domain's bundle is a 503, never trust material.
 */
export function guardedBundleSource(trust: BundleSource, timeoutMs: number): BundleSource {
  const source: BundleSource = {
    getBundle: (trustDomain) => guarded(trust.getBundle(trustDomain), trustDomain, timeoutMs),
  };
  if (typeof trust.refreshOnUnknownKey === 'function') {
    source.refreshOnUnknownKey = (trustDomain, kid) =>
      guarded(trust.refreshOnUnknownKey!(trustDomain, kid), trustDomain, timeoutMs);
  }
  return source;
}
