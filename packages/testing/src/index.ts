export {
  type BundleEndpoint,
  type BundleEndpointOptions,
  type BundleProvider,
  type EndpointFault,
  serveBundleEndpoint,
} from './bundle-endpoint.js';
export { sha256Base64Url } from './jws.js';
export {
  generateKeyPair,
  type JwtSvidAlgorithm,
  type TestAlgorithm,
  type TestKeyPair,
  type WorkloadKey,
} from './keys.js';
export {
  type JwksProvider,
  type OidcDiscoveryOptions,
  type OidcDiscoveryServer,
  serveOidcDiscovery,
} from './oidc-discovery.js';
export {
  type BadToken,
  combinedBundleSource,
  createTestTrustDomain,
  type IssuedWit,
  type IssueJwtSvidOptions,
  type IssueWitOptions,
  type SpiffeBundleDocument,
  type TestTrustDomain,
  type TestTrustDomainOptions,
} from './trust-domain.js';
