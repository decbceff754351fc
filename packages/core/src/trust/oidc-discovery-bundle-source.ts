import { parseJsonObjectStrict } from '../util/strict-json.js';
import { JwtBundle, type KeyUse } from './jwt-bundle.js';
import {
  DEFAULT_MAX_KEYS,
  RemoteBundleSource,
  type RemoteBundleSourceOptions,
} from './remote-bundle-source.js';
import {
  fetchDocument,
  parseTrustUrl,
  RemoteTrustError,
  type ResolvedFetchSettings,
  resolveFetchSettings,
} from './remote-fetch.js';

/** Options of {@link oidcDiscoveryBundleSource}. */
export interface OidcDiscoveryBundleSourceOptions extends RemoteBundleSourceOptions {
  /**
   * The issuer, exactly as its discovery document states it (`https://oidc.example.org`, maybe
   * with a path). Operator configuration only: never an `iss` taken from a token.
   */
  issuer: string | URL;
  /**
   * Mark the JWK Set's keys (which carry no SPIFFE `use`) as usable for this purpose only.
   * Default: unmarked, which JWT-SVID verification accepts unless `allowUnmarkedKeys` is off.
   */
  use?: KeyUse;
}

const DISCOVERY_PATH = '/.well-known/openid-configuration';

/** OpenID Connect Discovery §4: the issuer with any trailing slash removed, then the well-known path. */
function discoveryUrlOf(issuer: URL): string {
  return `${issuer.href.replace(/\/$/, '')}${DISCOVERY_PATH}`;
}

function invalidDiscovery(message: string, cause?: unknown): RemoteTrustError {
  return new RemoteTrustError('invalid_document', `discovery document ${message}`, { cause });
}

/**
 * Reads `jwks_uri` from the issuer's discovery document, which must name the configured
 * issuer exactly (OpenID Connect Discovery §4.3), so a document served for another issuer
 * cannot redirect trust.
 * @throws RemoteTrustError
 */
async function resolveJwksUri(
  settings: ResolvedFetchSettings,
  issuer: string,
  discoveryUrl: string,
  allowInsecureHttp: boolean,
  signal: AbortSignal,
): Promise<string> {
  const fetched = await fetchDocument(settings, {
    url: discoveryUrl,
    allowInsecureHttp,
    accept: 'application/json',
    signal,
  });
  if (fetched.notModified) throw invalidDiscovery('was answered with 304 to an unconditional request');
  let document: Record<string, unknown>;
  try {
    document = parseJsonObjectStrict(fetched.text);
  } catch (cause) {
    throw invalidDiscovery('is not a strict JSON object', cause);
  }
  const statedIssuer = Object.hasOwn(document, 'issuer') ? document.issuer : undefined;
  if (statedIssuer !== issuer) {
    throw new RemoteTrustError('issuer_mismatch', 'discovery document names a different issuer');
  }
  const jwksUri = Object.hasOwn(document, 'jwks_uri') ? document.jwks_uri : undefined;
  if (typeof jwksUri !== 'string') throw invalidDiscovery('has no "jwks_uri" string');
  try {
    return parseTrustUrl(jwksUri, allowInsecureHttp, 'jwks_uri').href;
  } catch (cause) {
    throw new RemoteTrustError('invalid_jwks_uri', 'discovery document "jwks_uri" is not an acceptable URL', {
      cause,
    });
  }
}

/**
 * A trust domain's JWT signing keys from an OpenID Connect issuer: its discovery document
 * (`<issuer>/.well-known/openid-configuration`) names the `jwks_uri`, whose JWK Set becomes
 * the bundle. For a SPIRE OIDC Discovery Provider or a cloud issuer. The `jwks_uri` is
 * re-resolved after a failed JWK Set fetch. See {@link RemoteBundleSource} for the refresh
 * and failure rules; the refresh interval comes from `Cache-Control: max-age`.
 */
export class OidcDiscoveryBundleSource extends RemoteBundleSource {
  /** The configured issuer. */
  readonly issuer: string;

  /**
   * Starts fetching; await {@link RemoteBundleSource.ready} to know the first attempt finished.
   * @throws TypeError on an unacceptable issuer URL; RangeError on out-of-range options.
   */
  constructor(options: OidcDiscoveryBundleSourceOptions) {
    const allowInsecureHttp = options.allowInsecureHttp === true;
    const issuerUrl = parseTrustUrl(options.issuer, allowInsecureHttp, 'issuer');
    if (issuerUrl.search !== '') throw new TypeError('issuer must not contain a query');
    // The issuer is compared with the document's as configured (a URL object normalises it).
    const issuer = typeof options.issuer === 'string' ? options.issuer : options.issuer.href;
    const discoveryUrl = discoveryUrlOf(issuerUrl);
    const settings = resolveFetchSettings(options);
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    const jwksOptions = options.use === undefined ? { maxKeys } : { maxKeys, use: options.use };
    let jwksUri: string | undefined;
    super(options, issuerUrl.host, async (etag, signal) => {
      const known = jwksUri;
      jwksUri = undefined;
      const url = known ?? (await resolveJwksUri(settings, issuer, discoveryUrl, allowInsecureHttp, signal));
      // A newly resolved jwks_uri may serve other content: its validator does not apply.
      const fetched = await fetchDocument(settings, {
        url,
        etag: known === undefined ? undefined : etag,
        allowInsecureHttp,
        accept: 'application/jwk-set+json, application/json',
        signal,
      });
      // Kept only after a good answer, so a failing jwks_uri is looked up again next time.
      const result = fetched.notModified
        ? fetched
        : {
            notModified: false as const,
            bundle: JwtBundle.fromJwks(options.trustDomain, fetched.text, jwksOptions),
            etag: fetched.etag,
            maxAgeSeconds: fetched.maxAgeSeconds,
          };
      jwksUri = url;
      return result;
    });
    this.issuer = issuer;
  }
}

/**
 * Trusts the JWT signing keys an operator-configured OpenID Connect issuer publishes:
 * `oidcDiscoveryBundleSource({ trustDomain: 'example.org', issuer: 'https://oidc.example.org' })`.
 * @throws TypeError, RangeError on invalid options
 */
export function oidcDiscoveryBundleSource(
  options: OidcDiscoveryBundleSourceOptions,
): OidcDiscoveryBundleSource {
  return new OidcDiscoveryBundleSource(options);
}
