import {
  type CallOptions,
  type ChannelOptions,
  Client,
  type ClientReadableStream,
  credentials,
  status as GrpcStatus,
  Metadata,
  type MethodDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { type EndpointAddress, resolveEndpointAddress } from './endpoint-address.js';
import { WorkloadApiError } from './errors.js';
import { structToJson, WORKLOAD_API_SECURITY_HEADER, workloadApiService } from './protocol.js';
import { readJwtSvid } from './svid.js';

/** Options of {@link WorkloadApiClient}. */
export interface WorkloadApiClientOptions {
  /**
   * `unix:///path/to/agent.sock` or `tcp://IP:port`. Default: the `SPIFFE_ENDPOINT_SOCKET`
   * environment variable, as the specification requires.
   */
  endpoint?: string;
  /** Where `SPIFFE_ENDPOINT_SOCKET` is read from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Deadline of unary calls and of waiting for a stream's first message, in ms. Default 10000. */
  timeoutMs?: number;
  /** Extra `@grpc/grpc-js` channel options (keepalive settings, say). */
  channelOptions?: ChannelOptions;
}

/** One JWT-SVID the agent issued. */
export interface JwtSvid {
  /** The SPIFFE ID the token was issued for. */
  readonly spiffeId: string;
  /** The token (JWS compact serialization). Never log it. */
  readonly token: string;
  /** Operator guidance on which identity to use, when the agent returns several. */
  readonly hint: string | undefined;
  /** The token's `exp`, in ms since the epoch. */
  readonly expiresAt: number;
  /** The token's `aud` values. */
  readonly audience: readonly string[];
}

/** Parameters of {@link WorkloadApiClient.fetchJwtSvids}. */
export interface FetchJwtSvidParameters {
  /** One or more audiences; the token is only accepted by services that expect one of them. */
  audience: string | readonly string[];
  /** Ask for this identity only (when the workload is entitled to several). */
  spiffeId?: string;
}

/** What ValidateJWTSVID answered. */
export interface ValidatedJwtSvid {
  readonly spiffeId: string;
  /** The token's claims as the agent returned them (it may filter non-SPIFFE claims). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** One WIT-SVID and the private key it confirms (WIT-SVID profile). */
export interface WitSvid {
  readonly spiffeId: string;
  /** The WIT (JWS compact serialization). Never log it. */
  readonly token: string;
  /** The private key as JWK JSON text. Never log it. */
  readonly privateKeyJwk: string;
  readonly hint: string | undefined;
}

/** Callbacks of {@link WorkloadApiClient.watchJwtBundles}. */
export interface JwtBundlesWatcher {
  /** Every message: JWKS bytes keyed by trust domain (SPIFFE ID, as the agent sent it). */
  onBundles(bundles: ReadonlyMap<string, Uint8Array>): void;
  /** The stream ended: `undefined` when the server closed it cleanly, otherwise why it failed. */
  onEnd(error: WorkloadApiError | undefined): void;
}

/** A running stream; `cancel()` ends it without calling `onEnd`. */
export interface StreamHandle {
  cancel(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function audienceList(audience: string | readonly string[]): string[] {
  const list = typeof audience === 'string' ? [audience] : [...audience];
  if (list.length === 0 || list.some((value) => typeof value !== 'string' || value.length === 0)) {
    throw new TypeError('audience must be one or more non-empty strings');
  }
  return list;
}

/**
 * A SPIFFE Workload API client (JWT-SVID profile, plus the optional WIT-SVID profile) over
 * gRPC. Every call carries the `workload.spiffe.io: true` metadata; unary calls have a
 * deadline. Errors are {@link WorkloadApiError}s. One client holds one gRPC channel;
 * {@link WorkloadApiClient.close} releases it and cancels open streams.
 */
export class WorkloadApiClient implements AsyncDisposable {
  /** The endpoint this client dials. */
  readonly endpoint: EndpointAddress;
  readonly #client: Client;
  readonly #timeoutMs: number;
  readonly #streams = new Set<ClientReadableStream<unknown>>();
  #closed = false;

  /**
   * Does not connect yet: the channel connects on the first call.
   * @throws InvalidEndpointAddressError when the endpoint is missing or malformed.
   * @throws RangeError on a non-positive `timeoutMs`.
   */
  constructor(options: WorkloadApiClientOptions = {}) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new RangeError('timeoutMs must be positive');
    this.#timeoutMs = timeoutMs;
    this.endpoint = resolveEndpointAddress(options.endpoint, options.env);
    // The Workload API is plaintext by design: a local socket, the agent attests the caller.
    this.#client = new Client(this.endpoint.grpcTarget, credentials.createInsecure(), {
      // Reconnect attempts are ours to pace (see WorkloadApiBundleSource); keep the channel's short.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      ...options.channelOptions,
    });
  }

  /** True once {@link WorkloadApiClient.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * FetchJWTSVID: JWT-SVIDs for `audience`, one per identity (the first is the default one).
   * @throws WorkloadApiError (`invalid_response` when the agent returned no usable SVID)
   */
  async fetchJwtSvids(parameters: FetchJwtSvidParameters): Promise<JwtSvid[]> {
    const audience = audienceList(parameters.audience);
    const method = workloadApiService().FetchJWTSVID;
    const response = await this.#unary(method, 'FetchJWTSVID', {
      audience,
      spiffeId: parameters.spiffeId ?? '',
    });
    if (response.svids.length === 0) {
      throw new WorkloadApiError('invalid_response', 'FetchJWTSVID returned no JWT-SVID');
    }
    return response.svids.map((svid) => readJwtSvid(svid.spiffeId, svid.svid, svid.hint));
  }

  /**
   * The JWT-SVID for `spiffeId` when given, otherwise the default (first) identity.
   * @throws WorkloadApiError
   */
  async fetchJwtSvid(parameters: FetchJwtSvidParameters): Promise<JwtSvid> {
    const svids = await this.fetchJwtSvids(parameters);
    const wanted = parameters.spiffeId;
    const svid = wanted === undefined ? svids[0] : svids.find((candidate) => candidate.spiffeId === wanted);
    if (svid === undefined) {
      throw new WorkloadApiError(
        'invalid_response',
        'FetchJWTSVID returned no JWT-SVID for the requested SPIFFE ID',
      );
    }
    return svid;
  }

  /**
   * ValidateJWTSVID: the agent validates `token` for `audience` with the bundles it holds.
   * @throws WorkloadApiError (`invalid_argument` when the agent refuses the token)
   */
  async validateJwtSvid(parameters: { audience: string; token: string }): Promise<ValidatedJwtSvid> {
    if (typeof parameters.audience !== 'string' || parameters.audience.length === 0) {
      throw new TypeError('audience must be a non-empty string');
    }
    if (typeof parameters.token !== 'string' || parameters.token.length === 0) {
      throw new TypeError('token must be a non-empty string');
    }
    const method = workloadApiService().ValidateJWTSVID;
    const response = await this.#unary(method, 'ValidateJWTSVID', {
      audience: parameters.audience,
      svid: parameters.token,
    });
    return Object.freeze({
      spiffeId: response.spiffeId,
      claims: Object.freeze(structToJson(response.claims)),
    });
  }

  /**
   * Opens FetchJWTBundles and reports each message until the stream ends or is cancelled.
   * Never throws; failures arrive through `onEnd`.
   */
  watchJwtBundles(watcher: JwtBundlesWatcher): StreamHandle {
    const method = workloadApiService().FetchJWTBundles;
    return this.#watch(
      method,
      'FetchJWTBundles',
      {},
      (message) => {
        watcher.onBundles(
          new Map(Object.entries(message.bundles).map(([key, value]) => [key, Buffer.from(value)])),
        );
      },
      watcher.onEnd,
    );
  }

  /**
   * FetchWITSVID (WIT-SVID profile): the WIT-SVIDs of the first message, then the stream
   * is closed.
   * @throws WorkloadApiError `not_supported` when the server does not implement the profile.
   */
  async fetchWitSvids(parameters: { spiffeId?: string } = {}): Promise<WitSvid[]> {
    const method = workloadApiService().FetchWITSVID;
    const message = await this.#firstMessage(method, 'FetchWITSVID', { spiffeId: parameters.spiffeId ?? '' });
    if (message.svids.length === 0)
      throw new WorkloadApiError('invalid_response', 'FetchWITSVID returned no WIT-SVID');
    return message.svids.map((svid) =>
      Object.freeze({
        spiffeId: svid.spiffeId,
        token: svid.witSvid,
        privateKeyJwk: svid.witSvidKey,
        hint: svid.hint.length > 0 ? svid.hint : undefined,
      }),
    );
  }

  /**
   * FetchWITBundles (WIT-SVID profile): the WIT bundles (JWKS text keyed by trust domain)
   * of the first message, then the stream is closed.
   * @throws WorkloadApiError `not_supported` when the server does not implement the profile.
   */
  async fetchWitBundles(): Promise<ReadonlyMap<string, string>> {
    const method = workloadApiService().FetchWITBundles;
    const message = await this.#firstMessage(method, 'FetchWITBundles', {});
    return new Map(Object.entries(message.bundles));
  }

  /** Cancels open streams and closes the channel. Calls made afterwards fail with `closed`. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      for (const stream of this.#streams) stream.cancel();
      this.#streams.clear();
      this.#client.close();
    }
    return Promise.resolve();
  }

  /** Same as {@link WorkloadApiClient.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #metadata(): Metadata {
    const metadata = new Metadata();
    metadata.set(WORKLOAD_API_SECURITY_HEADER.key, WORKLOAD_API_SECURITY_HEADER.value);
    return metadata;
  }

  #ensureOpen(method: string): void {
    if (this.#closed) throw new WorkloadApiError('closed', `${method}: the Workload API client is closed`);
  }

  #unary<Request, Response>(
    definition: MethodDefinition<Request, Response>,
    name: string,
    request: Request,
  ): Promise<Response> {
    this.#ensureOpen(name);
    const options: CallOptions = { deadline: Date.now() + this.#timeoutMs };
    return new Promise((resolve, reject) => {
      this.#client.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize,
        request,
        this.#metadata(),
        options,
        (error: ServiceError | null, response?: Response) => {
          if (error !== null || response === undefined) reject(WorkloadApiError.fromGrpc(name, error));
          else resolve(response);
        },
      );
    });
  }

  #open<Request, Response>(
    definition: MethodDefinition<Request, Response>,
    request: Request,
  ): ClientReadableStream<Response> {
    const stream = this.#client.makeServerStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      request,
      this.#metadata(),
      {},
    );
    this.#streams.add(stream as ClientReadableStream<unknown>);
    return stream;
  }

  #watch<Request, Response>(
    definition: MethodDefinition<Request, Response>,
    name: string,
    request: Request,
    onMessage: (message: Response) => void,
    onEnd: (error: WorkloadApiError | undefined) => void,
  ): StreamHandle {
    if (this.#closed) {
      queueMicrotask(() =>
        onEnd(new WorkloadApiError('closed', `${name}: the Workload API client is closed`)),
      );
      return { cancel: () => {} };
    }
    const stream = this.#open(definition, request);
    let cancelled = false;
    stream.on('data', (message: Response) => {
      if (!cancelled) onMessage(message);
    });
    // The outcome arrives once, as 'status'; 'error' only needs a listener so it is not thrown.
    stream.on('error', () => {});
    stream.on('status', (status: { code: number; details: string }) => {
      this.#streams.delete(stream as ClientReadableStream<unknown>);
      if (cancelled) return;
      cancelled = true;
      onEnd(status.code === GrpcStatus.OK ? undefined : WorkloadApiError.fromGrpc(name, status));
    });
    return {
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        this.#streams.delete(stream as ClientReadableStream<unknown>);
        stream.cancel();
      },
    };
  }

  #firstMessage<Request, Response>(
    definition: MethodDefinition<Request, Response>,
    name: string,
    request: Request,
  ): Promise<Response> {
    this.#ensureOpen(name);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        handle.cancel();
        reject(new WorkloadApiError('deadline_exceeded', `${name}: no message within ${this.#timeoutMs} ms`));
      }, this.#timeoutMs);
      const handle = this.#watch(
        definition,
        name,
        request,
        (message) => {
          clearTimeout(timer);
          handle.cancel();
          resolve(message);
        },
        (error) => {
          clearTimeout(timer);
          reject(error ?? new WorkloadApiError('invalid_response', `${name} ended without a message`));
        },
      );
    });
  }
}
