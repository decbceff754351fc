import { TrustDomain } from '../identifiers/spiffe-id.js';
import type { BundleSource } from './bundle-source.js';
import type { JwtBundle } from './jwt-bundle.js';

/** A source for the trust domains it is explicitly routed, for sources that do not name their own. */
export interface RoutedBundleSource {
  /** The trust domains (names or `spiffe://` IDs) whose bundles `source` provides. */
  trustDomains: readonly (TrustDomain | string)[];
  source: BundleSource;
}

/**
 * A member of a {@link bundleSet}: a source that names its trust domain (the remote sources'
 * `trustDomain`) or domains (`StaticBundleSource.trustDomains()`), or any source with an
 * explicit route (a `FileBundleSource`, a `WorkloadApiBundleSource`, your own).
 */
export type BundleSetMember =
  | (BundleSource & { readonly trustDomain: TrustDomain })
  | (BundleSource & { trustDomains(): readonly TrustDomain[] })
  | RoutedBundleSource;

function toTrustDomain(value: TrustDomain | string): TrustDomain {
  return typeof value === 'string' ? TrustDomain.parse(value) : value;
}

function isTrustDomainLike(value: unknown): value is { readonly name: string } {
  return (
    typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string'
  );
}

function routeOf(member: BundleSetMember): { source: BundleSource; trustDomains: readonly TrustDomain[] } {
  if (typeof member !== 'object' || member === null)
    throw new TypeError('bundleSet member must be an object');
  if (
    'source' in member &&
    typeof member.source?.getBundle === 'function' &&
    Array.isArray(member.trustDomains)
  ) {
    return { source: member.source, trustDomains: member.trustDomains.map(toTrustDomain) };
  }
  const source = member as BundleSource & { trustDomain?: unknown; trustDomains?: unknown };
  if (typeof source.getBundle !== 'function') {
    throw new TypeError('bundleSet member must be a BundleSource or { trustDomains, source }');
  }
  // By shape, not instanceof: the CommonJS and ESM copies of this library have two TrustDomain classes.
  if (isTrustDomainLike(source.trustDomain)) {
    return { source, trustDomains: [TrustDomain.parse(source.trustDomain.name)] };
  }
  if (typeof source.trustDomains === 'function') {
    const named: unknown = (source.trustDomains as () => unknown)();
    if (Array.isArray(named) && named.every(isTrustDomainLike)) {
      return { source, trustDomains: named.map((trustDomain) => TrustDomain.parse(trustDomain.name)) };
    }
  }
  throw new TypeError(
    'bundleSet member does not name its trust domains: pass { trustDomains: [...], source } instead',
  );
}

async function closeSource(source: BundleSource): Promise<void> {
  const closable = source as Partial<AsyncDisposable> & { close?: () => unknown };
  if (typeof closable.close === 'function') await closable.close();
  else if (typeof closable[Symbol.asyncDispose] === 'function') await closable[Symbol.asyncDispose]?.();
}

/**
 * Federation across trust domains: routes each trust domain to the one source configured
 * for it, and answers `undefined` (→ 401 `untrusted_trust_domain`) for every other. Sources
 * never answer for a trust domain they were not routed, so one compromised endpoint cannot
 * vouch for another trust domain. Owns its sources: {@link BundleSet.close} closes them.
 */
export class BundleSet implements BundleSource, AsyncDisposable {
  readonly #routes = new Map<string, BundleSource>();
  readonly #sources: readonly BundleSource[];

  /**
   * @throws TypeError when a member names no trust domain, or two members claim the same one.
   * @throws InvalidSpiffeIdError on an invalid trust domain name.
   */
  constructor(members: readonly BundleSetMember[]) {
    const sources: BundleSource[] = [];
    for (const member of members) {
      const { source, trustDomains } = routeOf(member);
      if (trustDomains.length === 0) throw new TypeError('bundleSet member routes no trust domain');
      for (const trustDomain of trustDomains) {
        if (this.#routes.has(trustDomain.name)) {
          throw new TypeError(`trust domain "${trustDomain.name}" has two sources in one bundleSet`);
        }
        this.#routes.set(trustDomain.name, source);
      }
      if (!sources.includes(source)) sources.push(source);
    }
    this.#sources = sources;
  }

  /** The routed source's bundle, or `undefined` for a trust domain no member is routed. */
  getBundle(trustDomain: TrustDomain): Promise<JwtBundle | undefined> | JwtBundle | undefined {
    return this.#routes.get(trustDomain.name)?.getBundle(trustDomain);
  }

  /** Passed to the routed source when it supports early re-fetching; otherwise its current bundle. */
  refreshOnUnknownKey(
    trustDomain: TrustDomain,
    kid: string,
  ): Promise<JwtBundle | undefined> | JwtBundle | undefined {
    const source = this.#routes.get(trustDomain.name);
    if (source === undefined) return undefined;
    return source.refreshOnUnknownKey === undefined
      ? source.getBundle(trustDomain)
      : source.refreshOnUnknownKey(trustDomain, kid);
  }

  /** The routed trust domains. */
  trustDomains(): TrustDomain[] {
    return [...this.#routes.keys()].map((name) => TrustDomain.parse(name));
  }

  /** Closes every member source that can be closed (`close()` or `Symbol.asyncDispose`). */
  async close(): Promise<void> {
    const results = await Promise.allSettled(this.#sources.map(closeSource));
    const failure = results.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw (failure as PromiseRejectedResult).reason;
  }

  /** Same as {@link BundleSet.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Routes trust domains to sources:
 * `bundleSet([federatedBundleSource({...}), oidcDiscoveryBundleSource({...}), { trustDomains: ['example.org'], source: workloadApi }])`.
 * @throws TypeError on a member without trust domains or a trust domain claimed twice
 */
export function bundleSet(members: readonly BundleSetMember[]): BundleSet {
  return new BundleSet(members);
}
