import { JwtBundle } from './jwt-bundle.js';
import {
  DEFAULT_MAX_KEYS,
  RemoteBundleSource,
  type RemoteBundleSourceOptions,
} from './remote-bundle-source.js';
import { fetchDocument, parseTrustUrl, resolveFetchSettings } from './remote-fetch.js';

/**
 * How the bundle endpoint authenticates itself (SPIFFE Federation §5.2). Only `https_web`
 * (Web PKI, or a CA given through the `dispatcher`) is implemented; `https_spiffe`, where
 * the endpoint presents an X509-SVID, is not supported yet.
 */
export type BundleEndpointProfile = 'https_web';

/** Options of {@link federatedBundleSource}. */
export interface FederatedBundleSourceOptions extends RemoteBundleSourceOptions {
  /** The bundle endpoint URL: `https`, no userinfo; configured, never taken from a token. */
  url: string | URL;
  /** The endpoint profile; required, since it is never inferred from the URL (Federation §7.2). */
  profile: BundleEndpointProfile;
}

/**
 * A federated trust domain's bundle, polled from its SPIFFE bundle endpoint (Federation §5,
 * `https_web` profile). See {@link RemoteBundleSource} for the refresh and failure rules.
 */
export class FederatedBundleSource extends RemoteBundleSource {
  /** The bundle endpoint URL. */
  readonly url: string;

  /**
   * Starts fetching; await {@link RemoteBundleSource.ready} to know the first attempt finished.
   * @throws TypeError on an unsupported profile or URL; RangeError on out-of-range options.
   */
  constructor(options: FederatedBundleSourceOptions) {
    if ((options.profile as string) !== 'https_web') {
      throw new TypeError(
        `bundle endpoint profile ${JSON.stringify(options.profile)} is not supported (only "https_web")`,
      );
    }
    const allowInsecureHttp = options.allowInsecureHttp === true;
    const url = parseTrustUrl(options.url, allowInsecureHttp, 'bundle endpoint URL');
    const settings = resolveFetchSettings(options);
    const maxKeys = options.maxKeys ?? DEFAULT_MAX_KEYS;
    const href = url.href;
    super(options, url.host, async (etag, signal) => {
      // The configured URL on every refresh: a redirect is never remembered (Federation §7.5.1).
      const fetched = await fetchDocument(settings, {
        url: href,
        etag,
        allowInsecureHttp,
        accept: 'application/json',
        signal,
      });
      if (fetched.notModified) return fetched;
      return {
        notModified: false,
        bundle: JwtBundle.fromSpiffeBundle(options.trustDomain, fetched.text, { maxKeys }),
        etag: fetched.etag,
        maxAgeSeconds: fetched.maxAgeSeconds,
      };
    });
    this.url = href;
  }
}

/**
 * Polls a federated trust domain's SPIFFE bundle endpoint:
 * `federatedBundleSource({ trustDomain: 'partner.example', url: 'https://…/bundle', profile: 'https_web' })`.
 * @throws TypeError, RangeError on invalid options
 */
export function federatedBundleSource(options: FederatedBundleSourceOptions): FederatedBundleSource {
  return new FederatedBundleSource(options);
}
