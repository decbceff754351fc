/**
 * Opt-in typing: `import '@wimse-auth/express/augment'` once, and every `Express.Request`
 * has `wimse?: WorkloadPrincipal`, the workload that `wimse()` (or the `@wimse-auth/passport`
 * strategy) authenticated. No runtime code.
 */
import type { WorkloadPrincipal } from '@wimse-auth/core';

declare global {
  namespace Express {
    interface Request {
      /** The authenticated calling workload; unset when no workload was authenticated. */
      wimse?: WorkloadPrincipal;
    }
  }
}
