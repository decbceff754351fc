import { InvalidSpiffeIdError, type InvalidSpiffeIdReason, SpiffeId, type TrustDomain } from './spiffe-id.js';

/**
 * Why a string is not a Workload Identifier (draft-ietf-wimse-identifier §4.1). The values
 * are stable and safe to log; `message` is a human sentence.
 *
 * - `not_a_string`: the value is not a string at all (for example a numeric `sub` claim).
 * - `empty`: the value is `''`.
 * - `too_long`: longer than {@link MAX_WORKLOAD_IDENTIFIER_LENGTH} bytes.
 * - `not_absolute_uri`: no RFC 3986 scheme (a relative reference, or junk before the first `:`).
 * - `uppercase_scheme`: the scheme is not in its lowercase canonical form.
 * - `missing_authority`: the scheme is not followed by `//` (`urn:…`, `wimse:w`).
 * - `empty_authority`: `//` is followed by nothing (`wimse:///w`).
 * - `userinfo`, `port`, `query`, `fragment`: the component the draft forbids is present.
 * - `ip_literal`: the trust domain is a bracketed IP literal (`[::1]`).
 * - `invalid_authority_character`: a trust-domain character outside the lowercase RFC 3986
 *   reg-name set (percent-encoding and non-ASCII included).
 * - `uppercase_trust_domain`: the trust domain is not in its lowercase canonical form.
 * - `invalid_path_character`: a path character outside RFC 3986 `pchar` (non-ASCII included).
 * - `invalid_percent_encoding`: a `%` not followed by two hex digits.
 * - `dot_segment`: a `.` or `..` path segment (also when percent-encoded).
 * - `invalid_spiffe_id`: the scheme is `spiffe` and the SPIFFE-ID.md rules fail; see
 *   {@link InvalidWorkloadIdentifierError.spiffeReason}.
 */
export type InvalidWorkloadIdentifierReason =
  | 'not_a_string'
  | 'empty'
  | 'too_long'
  | 'not_absolute_uri'
  | 'uppercase_scheme'
  | 'missing_authority'
  | 'empty_authority'
  | 'userinfo'
  | 'port'
  | 'ip_literal'
  | 'invalid_authority_character'
  | 'uppercase_trust_domain'
  | 'invalid_path_character'
  | 'invalid_percent_encoding'
  | 'dot_segment'
  | 'query'
  | 'fragment'
  | 'invalid_spiffe_id';

const REASON_MESSAGES: Record<InvalidWorkloadIdentifierReason, string> = {
  not_a_string: 'must be a string',
  empty: 'cannot be empty',
  too_long: 'is longer than the supported maximum length',
  not_absolute_uri: 'must be an absolute URI with a scheme',
  uppercase_scheme: 'scheme must be lowercase',
  missing_authority: 'must have an authority (the scheme must be followed by "//")',
  empty_authority: 'trust domain (authority) cannot be empty',
  userinfo: 'cannot contain user information',
  port: 'cannot contain a port',
  ip_literal: 'trust domain cannot be an IP literal',
  invalid_authority_character:
    'trust domain characters are limited to lowercase letters, digits, "-._~" and RFC 3986 sub-delimiters',
  uppercase_trust_domain: 'trust domain must be lowercase',
  invalid_path_character: 'path characters are limited to RFC 3986 path characters (ASCII only)',
  invalid_percent_encoding: 'path contains a malformed percent-encoding',
  dot_segment: 'path cannot contain "." or ".." segments',
  query: 'cannot contain a query',
  fragment: 'cannot contain a fragment',
  invalid_spiffe_id: 'is not a valid SPIFFE ID',
};

/**
 * Thrown by {@link WorkloadIdentifier.parse}. Never echoes the input: a `sub` claim is
 * attacker-controlled until the token's signature has been checked, and can be huge.
 */
export class InvalidWorkloadIdentifierError extends Error {
  override readonly name = 'InvalidWorkloadIdentifierError';
  /** Machine-readable reason. */
  readonly reason: InvalidWorkloadIdentifierReason;
  /** The SPIFFE rule that failed, when `reason` is `invalid_spiffe_id`; otherwise `undefined`. */
  readonly spiffeReason: InvalidSpiffeIdReason | undefined;

  /**
   * @param reason - Why the value was rejected.
   * @param spiffeError - The SPIFFE parser's error, for `invalid_spiffe_id`; kept as `cause`.
   */
  constructor(reason: InvalidWorkloadIdentifierReason, spiffeError?: InvalidSpiffeIdError) {
    super(
      spiffeError === undefined
        ? `invalid workload identifier: ${REASON_MESSAGES[reason]}`
        : `invalid workload identifier: ${spiffeError.message}`,
      spiffeError === undefined ? undefined : { cause: spiffeError },
    );
    this.reason = reason;
    this.spiffeReason = spiffeError?.reason;
  }
}

/**
 * Longest identifier {@link WorkloadIdentifier.parse} accepts, in bytes. The draft requires
 * support for 2048 bytes and asks parsers to bound their work (§7.1); four times the
 * requirement leaves room for issuers that overshoot without letting a token make us scan
 * megabytes.
 */
export const MAX_WORKLOAD_IDENTIFIER_LENGTH = 8192;

const SPIFFE_SCHEME = 'spiffe';

const SLASH = 0x2f;
const COLON = 0x3a;
const AT = 0x40;
const PERCENT = 0x25;
const QUESTION_MARK = 0x3f;
const HASH = 0x23;
const OPEN_BRACKET = 0x5b;
const DOT = 0x2e;

// Character classes as bit flags over ASCII. A table lookup per character keeps every check
// linear with no regex backtracking on attacker input, and anything >= 128 is simply absent.
const SCHEME_CHAR = 1;
const REG_NAME_CHAR = 2;
const PATH_CHAR = 4;
const HEX_DIGIT = 8;
const UPPERCASE = 16;
const ALPHA = 32;
const CHAR_CLASSES = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const ch = String.fromCharCode(code);
  const upper = ch >= 'A' && ch <= 'Z';
  const lower = ch >= 'a' && ch <= 'z';
  const digit = ch >= '0' && ch <= '9';
  const alphaNumeric = upper || lower || digit;
  const unreserved = alphaNumeric || '-._~'.includes(ch);
  const subDelimiter = "!$&'()*+,;=".includes(ch);
  let flags = 0;
  if (alphaNumeric || '+-.'.includes(ch)) flags |= SCHEME_CHAR;
  // Upper case is in the reg-name class so it is reported as a case problem, not a bad character.
  if (unreserved || subDelimiter) flags |= REG_NAME_CHAR;
  if (unreserved || subDelimiter || ch === ':' || ch === '@') flags |= PATH_CHAR;
  if (digit || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')) flags |= HEX_DIGIT;
  if (upper) flags |= UPPERCASE;
  if (upper || lower) flags |= ALPHA;
  CHAR_CLASSES[code] = flags;
}

function hasClass(code: number, flag: number): boolean {
  // NaN (reading past the end) and non-ASCII both fall outside the table.
  return code < 128 && ((CHAR_CLASSES[code] ?? 0) & flag) !== 0;
}

function fail(reason: InvalidWorkloadIdentifierReason): never {
  throw new InvalidWorkloadIdentifierError(reason);
}

/**
 * Dot segments (`.`, `..`, and their `%2e` spellings) are legal RFC 3986 but disappear under
 * normalisation: WHATWG `new URL()` turns `wimse://td/a/../admin` into `wimse://td/admin`.
 * An application that re-parses the identifier would then see a different workload than the
 * one the token names, so they are rejected outright.
 */
function isDotSegment(value: string, start: number, end: number): boolean {
  const length = end - start;
  if (length === 1) return value.charCodeAt(start) === DOT;
  if (length === 2) return value.charCodeAt(start) === DOT && value.charCodeAt(start + 1) === DOT;
  // Only these lengths can spell a dot segment with percent-encoding, so only they are sliced.
  if (length !== 3 && length !== 4 && length !== 6) return false;
  const segment = value.slice(start, end).toLowerCase();
  return segment === '%2e' || segment === '.%2e' || segment === '%2e.' || segment === '%2e%2e';
}

/** Validates the authority from `start` up to the first `/`, `?`, `#` or the end; returns that index. */
function scanAuthority(value: string, start: number): number {
  let end = start;
  let hasUserinfo = false;
  let hasColon = false;
  let hasInvalidCharacter = false;
  let hasUppercase = false;
  for (; end < value.length; end++) {
    const code = value.charCodeAt(end);
    if (code === SLASH || code === QUESTION_MARK || code === HASH) break;
    if (code === AT) hasUserinfo = true;
    else if (code === COLON) hasColon = true;
    else if (!hasClass(code, REG_NAME_CHAR)) hasInvalidCharacter = true;
    else if (hasClass(code, UPPERCASE)) hasUppercase = true;
  }
  // Structural problems first: they say which forbidden component is there, which is more
  // useful than "bad character" (`user:pass@host` is userinfo, not a port).
  if (hasUserinfo) fail('userinfo');
  if (value.charCodeAt(start) === OPEN_BRACKET) fail('ip_literal');
  if (hasColon) fail('port');
  if (end === start) fail('empty_authority');
  if (hasInvalidCharacter) fail('invalid_authority_character');
  if (hasUppercase) fail('uppercase_trust_domain');
  return end;
}

/** Validates the RFC 3986 path-abempty from `start` to the end; a `?` or `#` fails as query or fragment. */
function scanPath(value: string, start: number): void {
  let segmentStart = start + 1;
  for (let i = start; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === SLASH) {
      if (i > start && isDotSegment(value, segmentStart, i)) fail('dot_segment');
      segmentStart = i + 1;
    } else if (code === PERCENT) {
      if (!hasClass(value.charCodeAt(i + 1), HEX_DIGIT) || !hasClass(value.charCodeAt(i + 2), HEX_DIGIT)) {
        fail('invalid_percent_encoding');
      }
      i += 2;
    } else if (code === QUESTION_MARK) {
      fail('query');
    } else if (code === HASH) {
      fail('fragment');
    } else if (!hasClass(code, PATH_CHAR)) {
      fail('invalid_path_character');
    }
  }
  if (value.length > start && isDotSegment(value, segmentStart, value.length)) fail('dot_segment');
}

/**
 * A WIMSE Workload Identifier (draft-ietf-wimse-identifier §4.1): the `sub` of a WIT.
 *
 * Accepted: `<scheme>://<trust domain><path>` where the scheme follows RFC 3986 and is
 * lowercase; the trust domain (authority) is a non-empty, lowercase RFC 3986 reg-name
 * without percent-encoding, userinfo or port (a dotted-quad IPv4 address is a reg-name and
 * is accepted; bracketed IP literals are not); the path is RFC 3986 path-abempty without
 * dot segments; there is no query or fragment; the whole value is ASCII and at most
 * {@link MAX_WORKLOAD_IDENTIFIER_LENGTH} bytes. A `spiffe` identifier must also be a valid
 * SPIFFE ID ({@link SpiffeId.parse}).
 *
 * Nothing is normalised: the lowercase rules make scheme and trust domain canonical, and
 * the draft says to compare identifiers as complete URIs, so {@link equals} is exact.
 */
export class WorkloadIdentifier {
  /** The URI scheme, lowercase, for example `wimse` or `spiffe`. */
  readonly scheme: string;
  /** The trust domain: the URI authority, for example `example.com`. */
  readonly trustDomain: string;
  /** The path with its leading slash, or `''` (as in `spiffe://example.org`). */
  readonly path: string;
  /** The parsed SPIFFE ID when the scheme is `spiffe`, otherwise `undefined`. */
  readonly spiffeId: SpiffeId | undefined;
  readonly #text: string;

  private constructor(text: string, scheme: string, trustDomain: string, path: string, spiffeId?: SpiffeId) {
    this.#text = text;
    this.scheme = scheme;
    this.trustDomain = trustDomain;
    this.path = path;
    this.spiffeId = spiffeId;
  }

  /**
   * Parses and validates a Workload Identifier.
   * @throws InvalidWorkloadIdentifierError with a precise `reason`.
   */
  static parse(value: string): WorkloadIdentifier {
    // Claims come from JSON, so a caller can hand over a number or object despite the type.
    if (typeof value !== 'string') fail('not_a_string');
    if (value.length === 0) fail('empty');
    // UTF-16 length <= UTF-8 byte length, so this bounds the work before any scanning; any
    // non-ASCII text that slips under the cap is rejected character by character below.
    if (value.length > MAX_WORKLOAD_IDENTIFIER_LENGTH) fail('too_long');

    // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
    let schemeEnd = 0;
    let schemeHasUppercase = false;
    for (; schemeEnd < value.length; schemeEnd++) {
      const code = value.charCodeAt(schemeEnd);
      if (code === COLON && schemeEnd > 0) break;
      if (!hasClass(code, schemeEnd === 0 ? ALPHA : SCHEME_CHAR)) fail('not_absolute_uri');
      if (hasClass(code, UPPERCASE)) schemeHasUppercase = true;
    }
    if (schemeEnd === value.length) fail('not_absolute_uri');
    // Rejected rather than lowercased: `SPIFFE://` must not slip past the SPIFFE rules as some
    // other scheme, and one spelling per identifier keeps exact comparison sound.
    if (schemeHasUppercase) fail('uppercase_scheme');
    if (value.charCodeAt(schemeEnd + 1) !== SLASH || value.charCodeAt(schemeEnd + 2) !== SLASH) {
      fail('missing_authority');
    }

    const authorityStart = schemeEnd + 3;
    const authorityEnd = scanAuthority(value, authorityStart);
    scanPath(value, authorityEnd);

    const scheme = value.slice(0, schemeEnd);
    let spiffeId: SpiffeId | undefined;
    if (scheme === SPIFFE_SCHEME) {
      try {
        spiffeId = SpiffeId.parse(value);
      } catch (error) {
        if (error instanceof InvalidSpiffeIdError)
          throw new InvalidWorkloadIdentifierError('invalid_spiffe_id', error);
        throw error;
      }
    }
    return new WorkloadIdentifier(
      value,
      scheme,
      value.slice(authorityStart, authorityEnd),
      value.slice(authorityEnd),
      spiffeId,
    );
  }

  /** Like {@link WorkloadIdentifier.parse} but returns `undefined` instead of throwing. */
  static tryParse(value: string): WorkloadIdentifier | undefined {
    try {
      return WorkloadIdentifier.parse(value);
    } catch {
      return undefined;
    }
  }

  /**
   * The Workload Identifier Origin (draft-ietf-wimse-identifier §4.6): scheme and trust
   * domain without the path, for example `wimse://example.com`.
   */
  get origin(): string {
    return `${this.scheme}://${this.trustDomain}`;
  }

  /**
   * True when the identifier belongs to `trustDomain`, compared exactly.
   *
   * A string is compared with the authority alone, whatever the scheme. A {@link TrustDomain}
   * is a SPIFFE trust domain, so it only matches `spiffe` identifiers: the draft notes that
   * the same trust domain name may mean different things under different schemes.
   */
  memberOf(trustDomain: string | TrustDomain): boolean {
    if (typeof trustDomain === 'string') return this.trustDomain === trustDomain;
    return this.spiffeId?.memberOf(trustDomain) === true;
  }

  /** Exact equality of the complete URI, as the draft requires (§4.3). */
  equals(other: WorkloadIdentifier | string): boolean {
    return this.#text === (typeof other === 'string' ? other : other.#text);
  }

  /** The identifier exactly as parsed. */
  toString(): string {
    return this.#text;
  }

  /** The identifier exactly as parsed, so principals serialise as the URI string. */
  toJSON(): string {
    return this.#text;
  }
}
