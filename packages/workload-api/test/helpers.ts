import type { WimseEvent } from '@wimse-auth/core';

/** Polls `condition` until it holds; fails after `timeoutMs` (tests never hang). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Collects events for assertions. */
export function eventLog() {
  const events: WimseEvent[] = [];
  return {
    events,
    onEvent: (event: WimseEvent) => {
      events.push(event);
    },
    named: (name: string) => events.filter((event) => event.name === name),
  };
}

/** Fast backoff so recovery tests stay quick, but still exercise the backoff path. */
export const FAST_BACKOFF = { initialMs: 20, maxMs: 200 } as const;
