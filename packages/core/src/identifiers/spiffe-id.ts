/**
 * Why a string is not a SPIFFE ID or trust domain name. The `reason` values are stable
 * and safe to log; `message` is a human sentence.
 */
export type InvalidSpiffeIdReason =
  | 'empty'
  | 'invalid_scheme'
  | 'missing_trust_domain'
  | 'invalid_trust_domain_character'
  | 'trust_domain_too_long'
  | 'empty_segment'
  | 'dot_segment'
  | 'invalid_path_character'
  | 'trailing_slash';

const REASON_MESSAGES: Record<InvalidSpiffeIdReason, string> = {
  empty: 'cannot be empty',
  invalid_scheme: 'scheme is missing or invalid (must be exactly "spiffe://")',
  missing_trust_domain: 'trust domain is missing',
  invalid_trust_domain_character:
    'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores',
  trust_domain_too_long: 'trust domain name is longer than 255 bytes',
  empty_segment: 'path cannot contain empty segments',
  dot_segment: 'path cannot contain dot segments',
  invalid_path_character:
    'path segment characters are limited to letters, numbers, dots, dashes, and underscores',
  trailing_slash: 'path cannot have a trailing slash',
};

/** Thrown by {@link SpiffeId.parse} and {@link TrustDomain.parse}. Never echoes the input. */
export class InvalidSpiffeIdError extends Error {
  override readonly name = 'InvalidSpiffeIdError';
  /** Machine-readable reason. */
  readonly reason: InvalidSpiffeIdReason;

  constructor(reason: InvalidSpiffeIdReason) {
    super(`invalid SPIFFE ID: ${REASON_MESSAGES[reason]}`);
    this.reason = reason;
  }
}

const SCHEME = 'spiffe://';
const MAX_TRUST_DOMAIN_BYTES = 255;

// Byte tables instead of regexes: the checks run on every token's `sub`, and a table
// lookup per byte makes non-ASCII input fail as a bad character without decoding.
const TRUST_DOMAIN_BYTES = new Uint8Array(128);
const PATH_BYTES = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const lowerOrDigit = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
  const symbol = ch === '.' || ch === '-' || ch === '_';
  TRUST_DOMAIN_BYTES[c] = lowerOrDigit || symbol ? 1 : 0;
  PATH_BYTES[c] = lowerOrDigit || symbol || (ch >= 'A' && ch <= 'Z') ? 1 : 0;
}

function isTrustDomainChar(code: number): boolean {
  return code < 128 && TRUST_DOMAIN_BYTES[code] === 1;
}

function validateTrustDomainName(name: string): void {
  if (name.length === 0) throw new InvalidSpiffeIdError('missing_trust_domain');
  for (let i = 0; i < name.length; i++) {
    if (!isTrustDomainChar(name.charCodeAt(i)))
      throw new InvalidSpiffeIdError('invalid_trust_domain_character');
  }
  // Every accepted character is ASCII, so length in UTF-16 units equals length in bytes.
  if (name.length > MAX_TRUST_DOMAIN_BYTES) throw new InvalidSpiffeIdError('trust_domain_too_long');
}

function validatePath(path: string): void {
  if (path.length === 0) return;
  // Callers guarantee a leading '/'.
  let segmentStart = 1;
  for (let i = 1; i <= path.length; i++) {
    const atEnd = i === path.length;
    const code = atEnd ? 0x2f : path.charCodeAt(i);
    if (code === 0x2f) {
      const length = i - segmentStart;
      if (length === 0) throw new InvalidSpiffeIdError(atEnd ? 'trailing_slash' : 'empty_segment');
      if (
        (length === 1 && path.charCodeAt(segmentStart) === 0x2e) ||
        (length === 2 && path.charCodeAt(segmentStart) === 0x2e && path.charCodeAt(segmentStart + 1) === 0x2e)
      ) {
        throw new InvalidSpiffeIdError('dot_segment');
      }
      segmentStart = i + 1;
      continue;
    }
    if (code >= 128 || PATH_BYTES[code] !== 1) throw new InvalidSpiffeIdError('invalid_path_character');
  }
}

function validatePathSegment(segment: string): void {
  if (segment.length === 0) throw new InvalidSpiffeIdError('empty_segment');
  if (segment === '.' || segment === '..') throw new InvalidSpiffeIdError('dot_segment');
  for (let i = 0; i < segment.length; i++) {
    const code = segment.charCodeAt(i);
    // '/' is not in PATH_BYTES, so a slash inside a segment fails here.
    if (code >= 128 || PATH_BYTES[code] !== 1) throw new InvalidSpiffeIdError('invalid_path_character');
  }
}

/**
 * A SPIFFE trust domain: the authority of a SPIFFE ID (for example `example.org`).
 * Compare with {@link TrustDomain.equals} or by {@link TrustDomain.name}.
 */
export class TrustDomain {
  /** The trust domain name, for example `example.org`. */
  readonly name: string;

  private constructor(name: string) {
    this.name = name;
  }

  /**
   * Parses a trust domain name (`example.org`) or a SPIFFE ID, which is reduced to its
   * trust domain (`spiffe://example.org/ns/a` → `example.org`), as go-spiffe does.
   * @throws InvalidSpiffeIdError
   */
  static parse(value: string): TrustDomain {
    if (value.includes(':/')) return SpiffeId.parse(value).trustDomain;
    validateTrustDomainName(value);
    return new TrustDomain(value);
  }

  /** Like {@link TrustDomain.parse} but returns `undefined` instead of throwing. */
  static tryParse(value: string): TrustDomain | undefined {
    try {
      return TrustDomain.parse(value);
    } catch {
      return undefined;
    }
  }

  /** @internal Used by SpiffeId after it has validated the name. */
  static fromValidatedName(name: string): TrustDomain {
    return new TrustDomain(name);
  }

  /** The trust domain's own SPIFFE ID, `spiffe://<name>` (the key the Workload API uses). */
  get id(): string {
    return `${SCHEME}${this.name}`;
  }

  /** Exact (byte) equality, as SPIFFE requires. */
  equals(other: TrustDomain | string): boolean {
    return this.name === (typeof other === 'string' ? other : other.name);
  }

  toString(): string {
    return this.name;
  }

  toJSON(): string {
    return this.name;
  }
}

/**
 * A SPIFFE ID (`spiffe://<trust domain>/<path>`), validated strictly as SPIFFE-ID.md §2
 * and go-spiffe require: lowercase scheme and trust domain, no port, userinfo, query,
 * fragment, percent-encoding, empty or dot segments, or trailing slash.
 */
export class SpiffeId {
  /** The trust domain the ID belongs to. */
  readonly trustDomain: TrustDomain;
  /** The path, with its leading slash, or `''` for the trust domain's own ID. */
  readonly path: string;
  readonly #text: string;

  private constructor(trustDomain: TrustDomain, path: string, text: string) {
    this.trustDomain = trustDomain;
    this.path = path;
    this.#text = text;
  }

  /**
   * Parses and validates a SPIFFE ID.
   * @throws InvalidSpiffeIdError with a precise `reason`.
   */
  static parse(value: string): SpiffeId {
    if (value.length === 0) throw new InvalidSpiffeIdError('empty');
    if (!value.startsWith(SCHEME)) throw new InvalidSpiffeIdError('invalid_scheme');
    let end = SCHEME.length;
    while (end < value.length && value.charCodeAt(end) !== 0x2f) {
      if (!isTrustDomainChar(value.charCodeAt(end)))
        throw new InvalidSpiffeIdError('invalid_trust_domain_character');
      end++;
    }
    const name = value.slice(SCHEME.length, end);
    validateTrustDomainName(name);
    const path = value.slice(end);
    validatePath(path);
    return new SpiffeId(TrustDomain.fromValidatedName(name), path, value);
  }

  /** Like {@link SpiffeId.parse} but returns `undefined` instead of throwing. */
  static tryParse(value: string): SpiffeId | undefined {
    try {
      return SpiffeId.parse(value);
    } catch {
      return undefined;
    }
  }

  /**
   * Builds an ID from a trust domain and path segments (`fromSegments('example.org', 'ns', 'prod')`).
   * @throws InvalidSpiffeIdError
   */
  static fromSegments(trustDomain: TrustDomain | string, ...segments: string[]): SpiffeId {
    const td = typeof trustDomain === 'string' ? TrustDomain.parse(trustDomain) : trustDomain;
    // Each segment is checked on its own, as go-spiffe's FromSegments does: validating only the
    // joined path would let a segment such as 'a/b' silently become two segments.
    for (const segment of segments) validatePathSegment(segment);
    return SpiffeId.parse(`${SCHEME}${td.name}${segments.map((s) => `/${s}`).join('')}`);
  }

  /** True when this ID belongs to `trustDomain` (exact comparison). */
  memberOf(trustDomain: TrustDomain | string): boolean {
    return this.trustDomain.equals(trustDomain);
  }

  /** Exact equality with another ID or string. */
  equals(other: SpiffeId | string): boolean {
    return this.#text === (typeof other === 'string' ? other : other.#text);
  }

  /** The path split into segments (`/ns/prod` → `['ns', 'prod']`). */
  get segments(): string[] {
    return this.path.length === 0 ? [] : this.path.slice(1).split('/');
  }

  toString(): string {
    return this.#text;
  }

  toJSON(): string {
    return this.#text;
  }
}
