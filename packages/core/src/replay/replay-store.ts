/**
 * Remembers proof identifiers so that each proof is accepted once. Implementations must
 * make the check-and-insert atomic (two replicas racing on one proof: exactly one wins)
 * and must throw rather than answer when they cannot decide; the authenticator turns a
 * throw into `trust_unavailable` (503), never into acceptance.
 */
export interface ReplayStore {
  /**
   * Records `key` until `expiresAt` (epoch milliseconds).
   * @returns `true` when the key was new and is now remembered, `false` when it was already
   * remembered (a replay).
   */
  checkAndRemember(key: string, expiresAt: number): Promise<boolean>;
}
