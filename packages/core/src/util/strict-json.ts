/**
 * Nesting limit for strict parsing. JOSE headers, claim sets and trust bundles need a
 * handful of levels; the cap bounds the work a hostile document can cause.
 */
export const MAX_JSON_NESTING_DEPTH = 64;

// Up to this many members, a linear search beats hashing: JWT headers have 2–5 members.
const LINEAR_SEARCH_LIMIT = 8;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}

/** The member names seen so far in one object. */
class MemberNames {
  readonly #names: string[] = [];
  #index: Set<string> | undefined;

  /** Records `name`; false when the object already has a member of that name. */
  add(name: string): boolean {
    if (this.#index !== undefined) {
      if (this.#index.has(name)) return false;
      this.#index.add(name);
      return true;
    }
    if (this.#names.includes(name)) return false;
    this.#names.push(name);
    // Past a few members, switch to a Set so a huge object stays linear overall.
    if (this.#names.length > LINEAR_SEARCH_LIMIT) this.#index = new Set(this.#names);
    return true;
  }
}

/** Index of the quote that closes the string opening at `start`. */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    if (quote < 0) throw new SyntaxError('Unterminated string in JSON text');
    // A quote preceded by an odd run of backslashes is escaped, not closing.
    let backslashes = 0;
    for (let i = quote - 1; i > start && text.charCodeAt(i) === BACKSLASH; i--) backslashes++;
    if (backslashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

/** The decoded member name of the string token `text[start..end]` (quotes included). */
function memberName(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end);
  // Escapes are rare in member names; only they need the full decoder, so `"a"` and `"\u0061"` compare equal.
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(text.slice(start, end + 1)) as string;
  } catch {
    throw new SyntaxError('Invalid escape in JSON member name');
  }
}

/**
 * One linear pass over the structure of `text`: rejects duplicate member names and
 * nesting deeper than {@link MAX_JSON_NESTING_DEPTH}. Runs before JSON.parse, so it must
 * terminate safely on any input; syntax errors it does not notice are left to JSON.parse.
 * When `topLevelSources` is given, it receives the raw text of each top-level member value.
 */
function checkStructure(text: string, topLevelSources: Map<string, string> | undefined): void {
  // One entry per open container: the object's member names, or undefined for an array.
  const containers: Array<MemberNames | undefined> = [];
  let expectMemberName = false;
  let pendingTopLevelName: string | undefined;
  let valueStart = -1;

  const recordTopLevelValue = (end: number): void => {
    if (pendingTopLevelName === undefined || valueStart < 0) return;
    let last = end - 1;
    while (last > valueStart && isJsonWhitespace(text.charCodeAt(last))) last--;
    topLevelSources?.set(pendingTopLevelName, text.slice(valueStart, last + 1));
    pendingTopLevelName = undefined;
  };

  const length = text.length;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (pendingTopLevelName !== undefined && valueStart < 0 && code !== COLON && !isJsonWhitespace(code)) {
      valueStart = i;
    }
    switch (code) {
      case QUOTE: {
        const end = stringEnd(text, i);
        if (expectMemberName) {
          expectMemberName = false;
          const name = memberName(text, i, end);
          const names = containers[containers.length - 1];
          if (names !== undefined && !names.add(name)) {
            throw new SyntaxError('Duplicate member name in JSON object');
          }
          if (topLevelSources !== undefined && containers.length === 1) {
            pendingTopLevelName = name;
            valueStart = -1;
          }
        }
        i = end;
        break;
      }
      case OPEN_BRACE:
      case OPEN_BRACKET:
        if (containers.length >= MAX_JSON_NESTING_DEPTH) {
          throw new SyntaxError(`JSON text is nested deeper than ${MAX_JSON_NESTING_DEPTH} levels`);
        }
        containers.push(code === OPEN_BRACE ? new MemberNames() : undefined);
        expectMemberName = code === OPEN_BRACE;
        break;
      case CLOSE_BRACE:
      case CLOSE_BRACKET:
        if (containers.length === 1) recordTopLevelValue(i);
        containers.pop();
        expectMemberName = false;
        break;
      case COMMA:
        if (containers.length === 1) recordTopLevelValue(i);
        expectMemberName = containers[containers.length - 1] !== undefined;
        break;
      default:
        break;
    }
  }
}

function parseChecked(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // V8's message quotes the input, which may be token material; keep ours generic.
    throw new SyntaxError('Invalid JSON text');
  }
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Parses JSON like `JSON.parse`, but rejects any object with a duplicate member name
 * (compared after unescaping, so `"a"` and `"\u0061"` collide) and nesting deeper than
 * {@link MAX_JSON_NESTING_DEPTH}. A `__proto__` member becomes an ordinary own property,
 * as with `JSON.parse`.
 * @throws SyntaxError with a message that never quotes the input.
 */
export function parseJsonStrict(text: string): unknown {
  checkStructure(text, undefined);
  return parseChecked(text);
}

/**
 * {@link parseJsonStrict} for documents that must be a JSON object (JOSE headers,
 * claim sets, bundles).
 * @throws SyntaxError when the text is not strict JSON or its top level is not an object.
 */
export function parseJsonObjectStrict(text: string): Record<string, unknown> {
  const value = parseJsonStrict(text);
  if (!isJsonObject(value)) throw new SyntaxError('JSON text is not an object');
  return value;
}

/** A parsed JSON object together with the raw text of each of its members' values. */
export interface JsonObjectWithSources {
  /** The parsed object. */
  readonly object: Record<string, unknown>;
  /** Member name → the member value's exact source text (for example `18446744073709551615`). */
  readonly memberSources: ReadonlyMap<string, string>;
}

/**
 * {@link parseJsonObjectStrict} that also returns each top-level member value's source
 * text, for values `JSON.parse` cannot represent exactly (integers above 2^53, such as
 * `spiffe_sequence`) and for handing a nested document on without re-serialising it.
 * @throws SyntaxError
 */
export function parseJsonObjectStrictWithSources(text: string): JsonObjectWithSources {
  const memberSources = new Map<string, string>();
  checkStructure(text, memberSources);
  const object = parseChecked(text);
  if (!isJsonObject(object)) throw new SyntaxError('JSON text is not an object');
  return { object, memberSources };
}
