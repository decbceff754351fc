import type { JsonWebKey, KeyObject } from 'node:crypto';
import { type BundleSource, JwtBundle, TrustDomain } from '@wimse-auth/core';
import { hmacCompact, randomId, signCompact } from './jws.js';
import {
  assertAlgorithm,
  generateKeyPair,
  type JwtSvidAlgorithm,
  type TestAlgorithm,
  type TestKeyPair,
  type WorkloadKey,
} from './keys.js';

/**
 * Deliberately broken tokens for negative tests. What `@wimse-auth/core` answers
 * (the `code` of the `AuthenticationError`):
 *
 * | `bad` | code |
 * | --- | --- |
 * | `expired` | `token_expired` |
 * | `not-yet-valid` | `token_not_yet_valid` (`nbf` in the future) |
 * | `issued-in-future` | `issued_in_future` |
 * | `wrong-typ` | `invalid_type` (a WIT typed as a JWT, a JWT-SVID typed `wit+jwt`) |
 * | `wrong-key` | `invalid_signature` (signed by a key outside the bundle, under a trusted `kid`) |
 * | `bad-signature` | `invalid_signature` (signature bytes altered) |
 * | `unknown-kid` | `unknown_key` |
 * | `no-kid` | `unknown_key` for JWT-SVIDs; for WITs only when the trust domain has several WIT keys (after {@link TestTrustDomain.rotateKeys}) or under `witProfile: 'wit-svid'` — a lone WIT key may be selected without `kid` |
 * | `alg-none` | `credentials_malformed` (unsigned: `alg: none`, empty signature) |
 * | `alg-hs256` | `unsupported_algorithm` (HMAC keyed with the public key: the key-confusion attack) |
 * | `no-exp` | `invalid_claims` |
 * | `no-cnf` | `invalid_claims` (WIT only) |
 * | `untrusted-domain` | `untrusted_trust_domain` (subject in `untrusted.invalid`) |
 */
export type BadToken =
  | 'expired'
  | 'not-yet-valid'
  | 'issued-in-future'
  | 'wrong-typ'
  | 'wrong-key'
  | 'bad-signature'
  | 'unknown-kid'
  | 'no-kid'
  | 'alg-none'
  | 'alg-hs256'
  | 'no-exp'
  | 'no-cnf'
  | 'untrusted-domain';

/** Options of {@link createTestTrustDomain}. */
export interface TestTrustDomainOptions {
  /** Algorithm of the WIT signing keys. Default `ES256`. */
  alg?: TestAlgorithm;
  /** Algorithm of the JWT-SVID signing keys. Default: `alg`, or `ES256` when `alg` is `EdDSA`. */
  jwtSvidAlg?: JwtSvidAlgorithm;
  /** Time source for `iat`/`exp`. Default: the system clock. */
  clock?: () => Date;
  /** `iss` of every token issued (omitted by default). */
  issuer?: string;
  /** `spiffe_refresh_hint` of the bundle document, in seconds. Default 300. */
  refreshHintSeconds?: number;
}

/** Options of {@link TestTrustDomain.issueWit}. */
export interface IssueWitOptions {
  /** Subject: a workload identifier URI, or a path (`/ns/prod/sa/billing`) in this trust domain. Default `/workload`. */
  sub?: string;
  /** The workload key the WIT confirms (`cnf.jwk`). Default: a new ES256 key. */
  key?: WorkloadKey;
  /** Lifetime in seconds. Default 3600. */
  ttl?: number;
  /** Extra or overriding claims; a claim set to `undefined` is removed. */
  claims?: Record<string, unknown>;
  /** Extra or overriding JOSE header parameters; a parameter set to `undefined` is removed. */
  header?: Record<string, unknown>;
  /** Make the token invalid in one specific way (see {@link BadToken}). */
  bad?: BadToken;
}

/** A WIT and the workload key it binds. */
export interface IssuedWit {
  readonly token: string;
  readonly workloadKey: WorkloadKey;
  readonly header: Readonly<Record<string, unknown>>;
  readonly claims: Readonly<Record<string, unknown>>;
}

/** Options of {@link TestTrustDomain.issueJwtSvid}. */
export interface IssueJwtSvidOptions {
  /** Audience(s), required: JWT-SVIDs are always addressed. */
  aud: string | readonly string[];
  /** Subject: a SPIFFE ID, or a path in this trust domain. Default `/workload`. */
  sub?: string;
  /** Lifetime in seconds. Default 300. */
  ttl?: number;
  claims?: Record<string, unknown>;
  header?: Record<string, unknown>;
  bad?: BadToken;
}

/** A SPIFFE bundle document (JWK Set with SPIFFE members). */
export interface SpiffeBundleDocument {
  keys: Array<JsonWebKey & { kid: string; use: 'wit-svid' | 'jwt-svid' }>;
  spiffe_sequence: number;
  spiffe_refresh_hint: number;
}

/** A trust domain in a box. */
export interface TestTrustDomain {
  /** The trust domain name, e.g. `example.org`. */
  readonly name: string;
  /** `spiffe://<name>`. */
  readonly id: string;
  /** The SPIFFE bundle document now (a fresh copy on every read). */
  readonly bundle: SpiffeBundleDocument;
  /** The same keys as a plain JWK Set (no SPIFFE `use`, no sequence). */
  readonly jwks: { keys: JsonWebKey[] };
  /** The current {@link JwtBundle}; the same object until the keys change. */
  readonly jwtBundle: JwtBundle;
  /** A core `BundleSource` trusting this domain only, always serving {@link jwtBundle}. */
  readonly bundleSource: BundleSource;
  /** `spiffe_sequence` of the current bundle (starts at 1, +1 per change). */
  readonly sequence: number;
  /** The workload identifier for `path` in this trust domain (`spiffe://<name><path>`). */
  spiffeId(path: string): string;
  issueWit(options?: IssueWitOptions): IssuedWit;
  issueJwtSvid(options: IssueJwtSvidOptions): string;
  /** A fresh workload key pair (default ES256; EdDSA allowed). */
  generateWorkloadKey(alg?: TestAlgorithm): WorkloadKey;
  /**
   * New WIT and JWT-SVID signing keys: tokens are signed with them from now on. The previous
   * keys stay in the bundle (tokens they signed keep verifying) until {@link dropRetiredKeys}.
   * Bumps `spiffe_sequence` and creates a new `JwtBundle` object.
   */
  rotateKeys(): void;
  /** Removes the keys retired by {@link rotateKeys} from the bundle (new sequence, new bundle object). */
  dropRetiredKeys(): void;
}

interface SigningKey {
  readonly kid: string;
  readonly use: 'wit-svid' | 'jwt-svid';
  readonly pair: TestKeyPair;
}

const UNTRUSTED_DOMAIN = 'untrusted.invalid';

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record)) if (value !== undefined) out[name] = value;
  return out;
}

function checkTtl(ttl: number, what: string): number {
  if (!Number.isFinite(ttl)) throw new RangeError(`${what}: ttl must be a finite number of seconds`);
  return Math.floor(ttl);
}

function tamper(token: string): string {
  const [header, payload, signature = ''] = token.split('.');
  const bytes = Buffer.from(signature, 'base64url');
  if (bytes.length > 0) bytes[0] = bytes[0]! ^ 0xff;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

/**
 * Creates a trust domain for tests: it signs WITs and JWT-SVIDs with keys it publishes as a
 * SPIFFE bundle, a JWKS and a core `BundleSource`, rotates them, and issues deliberately bad
 * tokens. Keys are generated in memory; nothing touches the network.
 */
export function createTestTrustDomain(name: string, options: TestTrustDomainOptions = {}): TestTrustDomain {
  const trustDomain = TrustDomain.parse(name);
  const witAlg = options.alg ?? 'ES256';
  assertAlgorithm(witAlg, 'createTestTrustDomain');
  const jwtSvidAlg = options.jwtSvidAlg ?? (witAlg === 'EdDSA' ? 'ES256' : witAlg);
  assertAlgorithm(jwtSvidAlg, 'createTestTrustDomain');
  if ((jwtSvidAlg as string) === 'EdDSA') throw new TypeError('JWT-SVIDs cannot be signed with EdDSA');
  const clock = options.clock ?? (() => new Date());
  const refreshHint = options.refreshHintSeconds ?? 300;
  const now = (): number => Math.floor(clock().getTime() / 1000);

  let generation = 0;
  let keys: SigningKey[] = [];
  let sequence = 0;
  let jwtBundle: JwtBundle;

  function document(): SpiffeBundleDocument {
    return {
      keys: keys.map((key) => ({ ...key.pair.publicJwk, kid: key.kid, use: key.use })),
      spiffe_sequence: sequence,
      spiffe_refresh_hint: refreshHint,
    };
  }

  function publish(): void {
    sequence += 1;
    jwtBundle = JwtBundle.fromSpiffeBundle(trustDomain, document());
  }

  function addKeys(): void {
    generation += 1;
    keys = [
      ...keys,
      { kid: `wit-${generation}`, use: 'wit-svid', pair: generateKeyPair(witAlg) },
      { kid: `jwt-${generation}`, use: 'jwt-svid', pair: generateKeyPair(jwtSvidAlg) },
    ];
  }

  function current(use: SigningKey['use']): SigningKey {
    return keys.findLast((key) => key.use === use)!;
  }

  function subject(sub: string | undefined, bad: BadToken | undefined): string {
    const path = sub ?? '/workload';
    if (bad === 'untrusted-domain') {
      const suffix = path.startsWith('/') ? path : new URL(path).pathname;
      return `spiffe://${UNTRUSTED_DOMAIN}${suffix}`;
    }
    return path.startsWith('/') ? `${trustDomain.id}${path}` : path;
  }

  function finish(
    signer: SigningKey,
    typ: string,
    wrongTyp: string,
    claims: Record<string, unknown>,
    header: Record<string, unknown> | undefined,
    bad: BadToken | undefined,
  ): { token: string; header: Record<string, unknown>; claims: Record<string, unknown> } {
    let jose: Record<string, unknown> = { alg: signer.pair.alg, kid: signer.kid, typ, ...header };
    let key: KeyObject = signer.pair.privateKey;
    const t = now();
    switch (bad) {
      case 'expired':
        claims.iat = t - 7200;
        claims.exp = t - 3600;
        break;
      case 'not-yet-valid':
        claims.nbf = t + 3600;
        break;
      case 'issued-in-future':
        claims.iat = t + 3600;
        break;
      case 'wrong-typ':
        jose.typ = wrongTyp;
        break;
      case 'wrong-key':
        key = generateKeyPair(signer.pair.alg).privateKey;
        break;
      case 'unknown-kid':
        jose.kid = `unknown-${randomId()}`;
        break;
      case 'no-kid':
        jose.kid = undefined;
        break;
      case 'alg-none':
        jose.alg = 'none';
        break;
      case 'alg-hs256':
        jose.alg = 'HS256';
        break;
      case 'no-exp':
        claims.exp = undefined;
        break;
      case 'no-cnf':
        claims.cnf = undefined;
        break;
      default:
        break;
    }
    jose = withoutUndefined(jose);
    const body = withoutUndefined(claims);
    let token =
      jose.alg === 'HS256'
        ? hmacCompact(jose, body, JSON.stringify(signer.pair.publicJwk))
        : signCompact(jose, body, key);
    if (bad === 'bad-signature') token = tamper(token);
    return { token, header: Object.freeze(jose), claims: Object.freeze(body) };
  }

  addKeys();
  publish();

  const domain: TestTrustDomain = {
    name: trustDomain.name,
    id: trustDomain.id,
    get bundle() {
      return document();
    },
    get jwks() {
      return { keys: keys.map((key) => ({ ...key.pair.publicJwk, kid: key.kid })) };
    },
    get jwtBundle() {
      return jwtBundle;
    },
    bundleSource: {
      getBundle: (requested: TrustDomain) => (requested.name === trustDomain.name ? jwtBundle : undefined),
    },
    get sequence() {
      return sequence;
    },
    spiffeId(path: string): string {
      if (!path.startsWith('/')) throw new TypeError('spiffeId(path): path must start with "/"');
      return `${trustDomain.id}${path}`;
    },
    issueWit(witOptions: IssueWitOptions = {}): IssuedWit {
      const workloadKey = witOptions.key ?? generateKeyPair('ES256');
      const t = now();
      const claims: Record<string, unknown> = {
        ...(options.issuer === undefined ? {} : { iss: options.issuer }),
        sub: subject(witOptions.sub, witOptions.bad),
        iat: t,
        exp: t + checkTtl(witOptions.ttl ?? 3600, 'issueWit'),
        jti: randomId(),
        cnf: { jwk: { ...workloadKey.publicJwk } },
        ...witOptions.claims,
      };
      const issued = finish(current('wit-svid'), 'wit+jwt', 'JWT', claims, witOptions.header, witOptions.bad);
      return Object.freeze({ ...issued, workloadKey });
    },
    issueJwtSvid(svidOptions: IssueJwtSvidOptions): string {
      const t = now();
      const claims: Record<string, unknown> = {
        ...(options.issuer === undefined ? {} : { iss: options.issuer }),
        sub: subject(svidOptions.sub, svidOptions.bad),
        aud: typeof svidOptions.aud === 'string' ? svidOptions.aud : [...svidOptions.aud],
        iat: t,
        exp: t + checkTtl(svidOptions.ttl ?? 300, 'issueJwtSvid'),
        ...svidOptions.claims,
      };
      return finish(current('jwt-svid'), 'JWT', 'wit+jwt', claims, svidOptions.header, svidOptions.bad).token;
    },
    generateWorkloadKey(alg: TestAlgorithm = 'ES256'): WorkloadKey {
      return generateKeyPair(alg);
    },
    rotateKeys(): void {
      addKeys();
      publish();
    },
    dropRetiredKeys(): void {
      const wit = current('wit-svid');
      const jwt = current('jwt-svid');
      if (keys.length === 2) return;
      keys = [wit, jwt];
      publish();
    },
  };
  return Object.freeze(domain);
}

/** One `BundleSource` trusting several test trust domains (each keeps its rotation behaviour). */
export function combinedBundleSource(...domains: TestTrustDomain[]): BundleSource {
  const byName = new Map<string, TestTrustDomain>();
  for (const domain of domains) {
    if (byName.has(domain.name)) throw new TypeError(`trust domain ${domain.name} given twice`);
    byName.set(domain.name, domain);
  }
  return { getBundle: (trustDomain: TrustDomain) => byName.get(trustDomain.name)?.jwtBundle };
}
