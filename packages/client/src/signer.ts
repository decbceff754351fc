import type { KeyObject } from 'node:crypto';
import { decodePayload, isCompactJws, randomJti, sha256Base64Url, signJws } from './jws.js';
import {
  checkKeyFitsAlgorithm,
  checkKeyMatchesJwk,
  type PrivateKeyInput,
  SIGNING_ALGORITHMS,
  toPrivateKeyObject,
} from './keys.js';
import { resolveToken, type TokenSource } from './token-provider.js';

/** The verifier's default `maxProofLifetime`; proofs never live longer. */
export const MAX_PROOF_TTL_SECONDS = 300;
/** Default proof lifetime in seconds. */
export const DEFAULT_PROOF_TTL_SECONDS = 60;

/** Options of {@link createWptSigner}. */
export interface WptSignerOptions {
  /** The WIT as issued, or a provider of the current one (re-read for every proof). */
  wit: TokenSource;
  /** The workload's private key: the one the WIT's `cnf.jwk` confirms. */
  privateKey: PrivateKeyInput;
  /** Expected algorithm; must equal the WIT's `cnf.jwk.alg`. Needed only for WITs without it. */
  alg?: string;
  /** Proof lifetime in seconds; default 60, at most 300. */
  ttlSeconds?: number;
  /** Include `iat` (default `true`). */
  issuedAt?: boolean;
  /** Time source. Default: the system clock. */
  clock?: () => Date;
}

/** What one proof covers. */
export interface WptRequest {
  /** HTTP method (informational: WPT-02 has no method claim). */
  method?: string;
  /** The request's target URI; `aud` is it without query and fragment. */
  url: string | URL;
  /** The access token sent as `Authorization: Bearer` (bound by `ath`; `wpt-header` form only). */
  accessToken?: string;
  /** The `Txn-Token` header value sent (bound by `tth`). */
  txnToken?: string;
  /** Other token headers sent, by header name (bound by `oth`: lower-cased names, trimmed values). */
  otherTokens?: Readonly<Record<string, string>>;
  /** `aud` override (an alias the service accepts). */
  audience?: string;
  /** Lifetime of this proof, at most 300 s. */
  ttlSeconds?: number;
}

/** A signed proof and the WIT it binds (send both). */
export interface SignedWpt {
  /** The WIT the proof's `wth` hashes: send exactly this as `Workload-Identity-Token`. */
  readonly wit: string;
  /** The WPT. */
  readonly wpt: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly expiresAt: Date;
}

/** Signs Workload Proof Tokens for one workload. */
export interface WptSigner {
  sign(request: WptRequest): Promise<SignedWpt>;
}

function checkTtl(ttl: number, what: string): number {
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_PROOF_TTL_SECONDS) {
    throw new RangeError(`${what} must be an integer from 1 to ${MAX_PROOF_TTL_SECONDS} seconds`);
  }
  return ttl;
}

/** `aud` for a target URI: scheme, authority and path, without query and fragment. */
export function proofAudience(url: string | URL): string {
  const target = new URL(url);
  return `${target.protocol}//${target.host}${target.pathname}`;
}

interface PreparedWit {
  readonly wit: string;
  readonly alg: string;
}

/**
 * Creates a signer of Workload Proof Tokens (draft-ietf-wimse-wpt): header
 * `{ alg, typ: 'wpt+jwt' }`, claims `aud`, `exp`, `iat`, a fresh 128-bit `jti`, `wth`, and `ath`/
 * `tth`/`oth` for exactly the tokens sent. `alg` comes from the WIT's `cnf.jwk.alg` (the WIT
 * payload is decoded, not verified); the private key must be the one `cnf.jwk` names.
 * Tokens never appear in error messages.
 * @throws TypeError / RangeError for unusable options (a static WIT is checked here, a provided one on each sign).
 */
export function createWptSigner(options: WptSignerOptions): WptSigner {
  const key: KeyObject = toPrivateKeyObject(options.privateKey);
  const defaultTtl = checkTtl(options.ttlSeconds ?? DEFAULT_PROOF_TTL_SECONDS, 'ttlSeconds');
  const clock = options.clock ?? (() => new Date());
  const issuedAt = options.issuedAt ?? true;
  if (options.alg !== undefined && !SIGNING_ALGORITHMS.includes(options.alg)) {
    throw new TypeError(`alg ${JSON.stringify(options.alg)} is not a supported signature algorithm`);
  }
  let prepared: PreparedWit | undefined;

  function prepare(wit: string): PreparedWit {
    if (prepared?.wit === wit) return prepared;
    if (!isCompactJws(wit)) throw new TypeError('the WIT is not a compact JWS');
    const claims = decodePayload(wit, 'the WIT');
    const cnf = claims.cnf as { jwk?: Record<string, unknown> } | undefined;
    const jwk = typeof cnf === 'object' && cnf !== null ? cnf.jwk : undefined;
    if (typeof jwk !== 'object' || jwk === null) throw new TypeError('the WIT has no cnf.jwk');
    const witAlg = jwk.alg;
    if (witAlg !== undefined && typeof witAlg !== 'string')
      throw new TypeError('the WIT cnf.jwk.alg is not a string');
    if (witAlg !== undefined && options.alg !== undefined && witAlg !== options.alg) {
      throw new TypeError(`alg ${options.alg} differs from the WIT's cnf.jwk.alg ${witAlg}`);
    }
    const alg = witAlg ?? options.alg;
    if (alg === undefined) throw new TypeError('the WIT has no cnf.jwk.alg; pass alg');
    if (!SIGNING_ALGORITHMS.includes(alg)) throw new TypeError(`cnf.jwk.alg ${alg} is not supported`);
    checkKeyFitsAlgorithm(key, alg);
    checkKeyMatchesJwk(key, jwk, alg);
    prepared = { wit, alg };
    return prepared;
  }

  if (typeof options.wit === 'string') prepare(options.wit);

  return {
    async sign(request: WptRequest): Promise<SignedWpt> {
      const ttl = request.ttlSeconds === undefined ? defaultTtl : checkTtl(request.ttlSeconds, 'ttlSeconds');
      const { wit, alg } = prepare(await resolveToken(options.wit, 'wit'));
      const now = Math.floor(clock().getTime() / 1000);
      const claims: Record<string, unknown> = {
        aud: request.audience ?? proofAudience(request.url),
        exp: now + ttl,
        ...(issuedAt ? { iat: now } : {}),
        jti: randomJti(),
        wth: sha256Base64Url(wit),
      };
      if (request.accessToken !== undefined) claims.ath = sha256Base64Url(request.accessToken);
      if (request.txnToken !== undefined) claims.tth = sha256Base64Url(request.txnToken);
      const other = request.otherTokens;
      if (other !== undefined && Object.keys(other).length > 0) {
        const oth: Record<string, string> = {};
        for (const [name, value] of Object.entries(other)) {
          const lower = name.toLowerCase();
          if (Object.hasOwn(oth, lower)) throw new TypeError(`otherTokens names header ${lower} twice`);
          oth[lower] = sha256Base64Url(value.trim());
        }
        claims.oth = oth;
      }
      const wpt = signJws({ alg, typ: 'wpt+jwt' }, claims, key);
      return Object.freeze({
        wit,
        wpt,
        claims: Object.freeze(claims),
        expiresAt: new Date((now + ttl) * 1000),
      });
    },
  };
}
