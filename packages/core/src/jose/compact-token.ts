import { AuthenticationError } from '../errors/errors.js';
import { isBase64UrlSegment } from '../util/base64url.js';
import { parseJsonObjectStrict } from '../util/strict-json.js';

/** The protected header of a compact JWS, after structural checks. */
export interface JoseHeader {
  readonly alg: string;
  readonly typ?: string;
  readonly kid?: string;
  readonly [parameter: string]: unknown;
}

/** A compact JWS split into its parts, with a validated header. */
export interface CompactToken {
  readonly raw: string;
  readonly header: JoseHeader;
  readonly encodedPayload: string;
}

/** Default upper bound on a token's length; Node rejects header sections above 16 KiB anyway. */
export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024;

const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

// ignoreBOM keeps a leading U+FEFF in the text, so the JSON parser refuses it: no JOSE
// producer emits one (RFC 8259 §8.1), and a second spelling of the same header or claims
// is exactly what canonical parsing is here to exclude.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function malformed(what: string, detail: string): AuthenticationError {
  return new AuthenticationError('credentials_malformed', `${what} is not a valid compact JWS: ${detail}`);
}

/**
 * True when `token.slice(start, end)` is canonical unpadded base64url: only the 64
 * alphabet characters, a length that encodes whole bytes, and zero unused bits in the
 * last character. Non-canonical spellings would let one signature validate several
 * distinct token strings.
 */
function isCanonicalBase64Url(token: string, start: number, end: number): boolean {
  const length = end - start;
  if (length % 4 === 1 || !isBase64UrlSegment(token.slice(start, end))) return false;
  const last = BASE64URL_ALPHABET.indexOf(token.charAt(end - 1));
  if (length % 4 === 2) return (last & 0x0f) === 0;
  if (length % 4 === 3) return (last & 0x03) === 0;
  return true;
}

/** Parses decoded segment bytes as a strict UTF-8 JSON object. */
export function parseJsonBytes(bytes: Uint8Array, what: string, part: string): Record<string, unknown> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw malformed(what, `${part} is not UTF-8`);
  }
  try {
    return parseJsonObjectStrict(text);
  } catch {
    throw malformed(what, `${part} is not a JSON object without duplicate members`);
  }
}

/**
 * Splits and checks a compact JWS (`header.payload.signature`) exactly as the WIMSE ABNF
 * and RFC 7515 require, and validates its protected header. `what` names the token in
 * error messages ("WIT", "WPT", "JWT-SVID"); the token itself never appears in them.
 * @throws AuthenticationError `credentials_malformed`
 */
export function parseCompactToken(
  token: string,
  what: string,
  maxLength = DEFAULT_MAX_TOKEN_LENGTH,
): CompactToken {
  if (typeof token !== 'string' || token.length === 0) throw malformed(what, 'empty');
  if (token.length > maxLength) throw malformed(what, `longer than ${maxLength} characters`);
  const firstDot = token.indexOf('.');
  const secondDot = firstDot < 0 ? -1 : token.indexOf('.', firstDot + 1);
  if (secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0)
    throw malformed(what, 'expected three segments');
  if (
    !isCanonicalBase64Url(token, 0, firstDot) ||
    !isCanonicalBase64Url(token, firstDot + 1, secondDot) ||
    !isCanonicalBase64Url(token, secondDot + 1, token.length)
  ) {
    throw malformed(what, 'segments must be non-empty canonical base64url');
  }
  const header = decodeJsonSegment(token.slice(0, firstDot), what, 'header');
  const alg = header.alg;
  if (typeof alg !== 'string' || alg.length === 0) throw malformed(what, 'missing "alg" header');
  // We understand no critical extension, and unencoded payloads (b64=false) are not JWTs.
  if (header.crit !== undefined) throw malformed(what, 'unsupported "crit" header');
  if (header.b64 !== undefined) throw malformed(what, 'unsupported "b64" header');
  if (header.typ !== undefined && typeof header.typ !== 'string') {
    throw new AuthenticationError('invalid_type', `${what} "typ" header must be a string`);
  }
  if (header.kid !== undefined && typeof header.kid !== 'string')
    throw malformed(what, '"kid" header must be a string');
  return { raw: token, header: header as JoseHeader, encodedPayload: token.slice(firstDot + 1, secondDot) };
}

/** Decodes one base64url segment as a strict UTF-8 JSON object. */
function decodeJsonSegment(segment: string, what: string, part: string): Record<string, unknown> {
  return parseJsonBytes(Buffer.from(segment, 'base64url'), what, part);
}

/** The token's claims set, as a strict JSON object. */
export function decodeClaims(token: CompactToken, what: string): Record<string, unknown> {
  return decodeJsonSegment(token.encodedPayload, what, 'payload');
}

/**
 * Normalises a media type the way RFC 7515 §4.1.9 compares `typ`: case-insensitively,
 * with `application/` implied when there is no slash.
 */
export function normaliseMediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}
