import { TrustDomain } from '../identifiers/spiffe-id.js';
import { parseJsonObjectStrictWithSources } from '../util/strict-json.js';
import type { BundleSource } from './bundle-source.js';
import type { JwksOptions } from './jwt-bundle.js';
import { InvalidBundleError, JwtBundle } from './jwt-bundle.js';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface TrustDomainsMember {
  bundles: Record<string, unknown>;
  /** Each bundle's source text, when the map arrived as text (keeps `spiffe_sequence` exact). */
  bundleSources: ReadonlyMap<string, string> | undefined;
}

function readTrustDomainsMember(document: string | object): TrustDomainsMember {
  let top: Record<string, unknown>;
  let memberSources: ReadonlyMap<string, string> | undefined;
  if (typeof document === 'string') {
    try {
      ({ object: top, memberSources } = parseJsonObjectStrictWithSources(document));
    } catch (cause) {
      throw new InvalidBundleError('malformed_json', 'bundle map is not a strict JSON object', { cause });
    }
  } else if (isPlainObject(document)) {
    top = document;
  } else {
    throw new InvalidBundleError('not_an_object', 'bundle map is not an object');
  }
  const bundles = Object.hasOwn(top, 'trust_domains') ? top.trust_domains : undefined;
  if (!isPlainObject(bundles)) {
    throw new InvalidBundleError('trust_domains_missing', 'bundle map has no "trust_domains" object');
  }
  const source = memberSources?.get('trust_domains');
  // The member's own text, split once more, gives each bundle's text (exact sequences).
  const bundleSources =
    source === undefined ? undefined : parseJsonObjectStrictWithSources(source).memberSources;
  return { bundles, bundleSources };
}

/**
 * Parses a SPIFFE bundle map (SPIFFE_Trust_Domain_and_Bundle §5):
 * `{"trust_domains": {"<trust domain>": <SPIFFE bundle>, ...}}`. Keys may be a trust
 * domain name or its SPIFFE ID (`spiffe://example.org`). Duplicate keys are rejected
 * (§6.3) when the map is given as text; an already-parsed object cannot show them.
 * @throws InvalidBundleError
 */
export function parseSpiffeBundleMap(document: string | object): JwtBundle[] {
  const { bundles, bundleSources } = readTrustDomainsMember(document);
  const result: JwtBundle[] = [];
  const seen = new Set<string>();
  for (const [index, [name, value]] of Object.entries(bundles).entries()) {
    const trustDomain = TrustDomain.tryParse(name);
    // A SPIFFE ID with a path would otherwise be silently reduced to its trust domain.
    if (trustDomain === undefined || (name !== trustDomain.name && name !== trustDomain.id)) {
      throw new InvalidBundleError('invalid_trust_domain', `bundle map entry ${index} is not a trust domain`);
    }
    if (seen.has(trustDomain.name)) {
      throw new InvalidBundleError(
        'duplicate_trust_domain',
        `trust domain "${trustDomain.name}" appears twice`,
      );
    }
    seen.add(trustDomain.name);
    if (!isPlainObject(value)) {
      throw new InvalidBundleError(
        'not_an_object',
        `bundle of trust domain "${trustDomain.name}" is not an object`,
      );
    }
    try {
      result.push(JwtBundle.fromSpiffeBundle(trustDomain, bundleSources?.get(name) ?? value));
    } catch (error) {
      if (!(error instanceof InvalidBundleError)) throw error;
      throw new InvalidBundleError(error.reason, `trust domain "${trustDomain.name}": ${error.message}`, {
        cause: error,
      });
    }
  }
  return result;
}

/** A fixed set of trust bundles, for configuration files, tests and embedded trust. */
export class StaticBundleSource implements BundleSource {
  readonly #bundles: ReadonlyMap<string, JwtBundle>;

  /** @throws InvalidBundleError (`duplicate_trust_domain`) when two bundles share a trust domain. */
  constructor(bundles: Iterable<JwtBundle>) {
    const byName = new Map<string, JwtBundle>();
    for (const bundle of bundles) {
      const name = bundle.trustDomain.name;
      if (byName.has(name)) {
        throw new InvalidBundleError('duplicate_trust_domain', `trust domain "${name}" has two bundles`);
      }
      byName.set(name, bundle);
    }
    this.#bundles = byName;
  }

  /**
   * A source from a SPIFFE bundle map (`{"trust_domains": {...}}`); see {@link parseSpiffeBundleMap}.
   * @throws InvalidBundleError
   */
  static fromBundleMap(document: string | object): StaticBundleSource {
    return new StaticBundleSource(parseSpiffeBundleMap(document));
  }

  /**
   * A source trusting one trust domain's plain JWK Set; see {@link JwtBundle.fromJwks}.
   * @throws InvalidBundleError
   */
  static fromJwks(
    trustDomain: TrustDomain | string,
    jwks: string | object,
    options?: JwksOptions,
  ): StaticBundleSource {
    return new StaticBundleSource([JwtBundle.fromJwks(trustDomain, jwks, options)]);
  }

  /**
   * A source trusting one trust domain's SPIFFE bundle; see {@link JwtBundle.fromSpiffeBundle}.
   * @throws InvalidBundleError
   */
  static fromSpiffeBundle(trustDomain: TrustDomain | string, document: string | object): StaticBundleSource {
    return new StaticBundleSource([JwtBundle.fromSpiffeBundle(trustDomain, document)]);
  }

  /** The bundle of `trustDomain`, or `undefined` when it is not trusted. */
  getBundle(trustDomain: TrustDomain): JwtBundle | undefined {
    return this.#bundles.get(trustDomain.name);
  }

  /** The trusted trust domains. */
  trustDomains(): TrustDomain[] {
    return [...this.#bundles.values()].map((bundle) => bundle.trustDomain);
  }
}
