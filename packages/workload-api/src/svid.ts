import type { JwtSvid } from './client.js';
import { WorkloadApiError } from './errors.js';

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$/;

function invalid(message: string): WorkloadApiError {
  return new WorkloadApiError('invalid_response', `FetchJWTSVID: ${message}`);
}

/**
 * Reads the metadata a caller needs (expiry, audience) from a JWT-SVID the agent issued.
 * The signature is not checked: the token comes from the local agent, and it is the
 * receiving service that verifies it. Error messages never include the token.
 * @throws WorkloadApiError `invalid_response`
 */
export function readJwtSvid(spiffeId: string, token: string, hint: string): JwtSvid {
  if (spiffeId.length === 0) throw invalid('a JWT-SVID has no SPIFFE ID');
  const match = COMPACT_JWS.exec(token);
  if (match === null) throw invalid('a JWT-SVID is not a compact JWS');
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(match[1] ?? '', 'base64url').toString('utf8'));
  } catch {
    throw invalid('a JWT-SVID payload is not JSON');
  }
  if (typeof claims !== 'object' || claims === null) throw invalid('a JWT-SVID payload is not a JSON object');
  const { exp, aud, sub } = claims as { exp?: unknown; aud?: unknown; sub?: unknown };
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw invalid('a JWT-SVID has no numeric "exp"');
  if (sub !== spiffeId) throw invalid('a JWT-SVID subject differs from the SPIFFE ID it was returned for');
  const audience =
    typeof aud === 'string'
      ? [aud]
      : Array.isArray(aud)
        ? aud.filter((value) => typeof value === 'string')
        : [];
  return Object.freeze({
    spiffeId,
    token,
    hint: hint.length > 0 ? hint : undefined,
    expiresAt: exp * 1000,
    audience: Object.freeze(audience as string[]),
  });
}
