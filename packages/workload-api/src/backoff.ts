/** Capped exponential backoff with jitter. */
export interface BackoffOptions {
  /** First delay in ms. Default 250. */
  initialMs?: number;
  /** Largest delay in ms. Default 30000. */
  maxMs?: number;
}

const DEFAULT_INITIAL_MS = 250;
const DEFAULT_MAX_MS = 30_000;

/** Checks backoff options; returns them with defaults applied. */
export function backoffSettings(options: BackoffOptions = {}): Required<BackoffOptions> {
  const initialMs = options.initialMs ?? DEFAULT_INITIAL_MS;
  const maxMs = options.maxMs ?? DEFAULT_MAX_MS;
  if (!Number.isFinite(initialMs) || initialMs <= 0)
    throw new RangeError('backoff.initialMs must be positive');
  if (!Number.isFinite(maxMs) || maxMs < initialMs)
    throw new RangeError('backoff.maxMs must be at least initialMs');
  return { initialMs, maxMs };
}

/**
 * The delay before retry number `attempt` (0-based): `initialMs * 2^attempt`, capped at
 * `maxMs`, then "equal jitter" (a random point in the upper half) so that many workloads
 * restarting with their agent do not retry in lockstep, yet never retry at once.
 */
export function backoffDelay(
  attempt: number,
  settings: Required<BackoffOptions>,
  random = Math.random,
): number {
  const base = Math.min(settings.maxMs, settings.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(base / 2 + random() * (base / 2));
}
