export {
  type FetchFunction,
  type JwtSvidFetchOptions,
  jwtSvidFetch,
  type SignerInput,
  type WimseFetchOptions,
  wimseFetch,
} from './fetch.js';
export type { ProofAttachOptions, WptTransport } from './headers.js';
export { randomJti, sha256Base64Url, signJws } from './jws.js';
export { type PrivateKeyInput, SIGNING_ALGORITHMS } from './keys.js';
export {
  createWptSigner,
  DEFAULT_PROOF_TTL_SECONDS,
  MAX_PROOF_TTL_SECONDS,
  proofAudience,
  type SignedWpt,
  type WptRequest,
  type WptSigner,
  type WptSignerOptions,
} from './signer.js';
export {
  type FileTokenProvider,
  type FileTokenProviderOptions,
  fileTokenProvider,
  type TokenProvider,
  type TokenSource,
} from './token-provider.js';
export {
  type AnyDispatch,
  type DispatchInterceptor,
  jwtSvidInterceptor,
  type WimseInterceptorOptions,
  wimseInterceptor,
} from './undici.js';
