import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  status as GrpcStatus,
  type handleServerStreamingCall,
  type handleUnaryCall,
  Metadata,
  Server,
  ServerCredentials,
  type ServerWritableStream,
  type ServiceError,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { isWimseError, verifyJwtSvid } from '@wimse-auth/core';
import {
  type JwtBundlesRequestMessage,
  type JwtBundlesResponseMessage,
  type JwtSvidRequestMessage,
  type JwtSvidResponseMessage,
  jsonToStruct,
  type ValidateJwtSvidRequestMessage,
  type ValidateJwtSvidResponseMessage,
  type WitBundlesRequestMessage,
  type WitBundlesResponseMessage,
  type WitSvidRequestMessage,
  type WitSvidResponseMessage,
  WORKLOAD_API_SECURITY_HEADER,
  workloadApiService,
} from '@wimse-auth/workload-api';
import { combinedBundleSource, createTestTrustDomain, type TestTrustDomain } from '../trust-domain.js';

/** The Workload API methods the fake server answers. */
export type WorkloadApiMethod =
  | 'FetchJWTSVID'
  | 'FetchJWTBundles'
  | 'ValidateJWTSVID'
  | 'FetchWITSVID'
  | 'FetchWITBundles';

const METHODS: readonly WorkloadApiMethod[] = [
  'FetchJWTSVID',
  'FetchJWTBundles',
  'ValidateJWTSVID',
  'FetchWITSVID',
  'FetchWITBundles',
];

/** Options of {@link startFakeWorkloadApi}. */
export interface FakeWorkloadApiOptions {
  /** The agent's own trust domain. Default: a new `createTestTrustDomain('example.org')`. */
  trustDomain?: TestTrustDomain;
  /** Further trust domains whose JWT bundles are streamed too (federation). */
  federatedTrustDomains?: readonly TestTrustDomain[];
  /**
   * The identities the calling workload is entitled to: paths in the own trust domain
   * (`/ns/prod/sa/web`) or SPIFFE IDs. The first is the default one. Default `['/workload']`.
   */
  identities?: readonly string[];
  /** Lifetime of the JWT-SVIDs issued, in seconds. Default 300. */
  jwtSvidTtlSeconds?: number;
  /**
   * Serve the optional WIT-SVID profile: `FetchWITSVID` issues a WIT-SVID and a fresh ES256
   * workload key per identity, `FetchWITBundles` sends the WIT keys. Default `false`: both
   * answer `UNIMPLEMENTED`, as SPIRE does today.
   */
  witProfile?: boolean;
  /**
   * Where to listen: `'unix'` (default) on `socketPath`, or `'tcp'` on 127.0.0.1 with an
   * ephemeral port.
   */
  transport?: 'unix' | 'tcp';
  /** The socket path. Default: `agent.sock` in a new temporary directory, removed by `close()`. */
  socketPath?: string;
}

/** A failure to inject, see {@link FakeWorkloadApi.failNext}. */
export interface InjectedFailure {
  /** Only calls to this method fail. Default: any method. */
  method?: WorkloadApiMethod;
  /** The status text sent with the failure. */
  details?: string;
}

/** A running fake SPIFFE Workload API (a SPIRE agent stand-in), see {@link startFakeWorkloadApi}. */
export interface FakeWorkloadApi extends AsyncDisposable {
  /** The endpoint address, as `SPIFFE_ENDPOINT_SOCKET` takes it: `unix:///…/agent.sock` or `tcp://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** The socket path (unix transport only). */
  readonly socketPath: string | undefined;
  /** The agent's own trust domain: it signs the JWT-SVIDs. */
  readonly trustDomain: TestTrustDomain;
  /** True between `start()` and `stop()`. */
  readonly running: boolean;
  /** Calls received per method, including refused ones. */
  readonly calls: Readonly<Record<WorkloadApiMethod, number>>;
  /** `FetchJWTBundles` streams currently open. */
  readonly openBundleStreams: number;
  /** Calls refused because they lacked the `workload.spiffe.io: true` metadata. */
  readonly refusedWithoutSecurityHeader: number;
  /** Replaces the caller's identities (paths or SPIFFE IDs; the first is the default). */
  setIdentities(identities: readonly string[]): void;
  /**
   * Serves exactly these bundles (JWKS documents or text, keyed by trust domain SPIFFE ID)
   * instead of the trust domains' own, and streams them to every open `FetchJWTBundles`
   * call. `undefined` goes back to the trust domains' bundles.
   */
  setBundles(bundles: Readonly<Record<string, object | string>> | undefined): void;
  /** Streams the trust domains' current bundles (call after rotating their keys yourself). */
  publishBundles(): void;
  /** Rotates the own trust domain's keys (`rotateKeys()`) and streams the new bundles. */
  rotate(): void;
  /** The next `count` calls (to `failure.method`, or any) fail with gRPC status `code`. */
  failNext(count: number, code: GrpcStatus, failure?: InjectedFailure): void;
  /** Ends every open `FetchJWTBundles` stream cleanly (status OK), as an agent may. */
  endBundleStreams(): void;
  /** Stops abruptly, like a crashing agent: open calls fail, the socket goes away. */
  stop(): Promise<void>;
  /** Starts again on the same endpoint (after {@link FakeWorkloadApi.stop}). */
  start(): Promise<void>;
  /** Stops and removes the temporary directory it created. */
  close(): Promise<void>;
}

interface PendingFailure {
  readonly code: GrpcStatus;
  readonly method: WorkloadApiMethod | undefined;
  readonly details: string;
}

/** One kind of a trust domain's keys as the Workload API sends them: a plain JWKS, every key with a `kid`. */
function jwksOf(domain: TestTrustDomain, use: 'jwt-svid' | 'wit-svid'): string {
  const keys = domain.bundle.keys.filter((key) => key.use === use).map(({ use: _use, ...key }) => key);
  return JSON.stringify({ keys });
}

function failure(code: GrpcStatus, details: string): Partial<ServiceError> {
  return { code, details, metadata: new Metadata() };
}

/**
 * Starts a fake SPIFFE Workload API server over gRPC, built from the same `.proto` as
 * `@wimse-auth/workload-api`, on a real unix socket (or TCP on 127.0.0.1). It issues real
 * JWT-SVIDs signed by a test trust domain, streams JWT bundles and lets the test push
 * rotations, validates JWT-SVIDs, refuses calls without the `workload.spiffe.io: true`
 * metadata with `INVALID_ARGUMENT` (as the specification requires), answers the WIT-SVID
 * profile with `UNIMPLEMENTED` unless `witProfile` is set, can fail the next calls with any status, restarts on the
 * same socket and counts calls.
 */
export async function startFakeWorkloadApi(options: FakeWorkloadApiOptions = {}): Promise<FakeWorkloadApi> {
  const trustDomain = options.trustDomain ?? createTestTrustDomain('example.org');
  const domains = [trustDomain, ...(options.federatedTrustDomains ?? [])];
  const trust = combinedBundleSource(...domains);
  const ttl = options.jwtSvidTtlSeconds ?? 300;
  if (!Number.isFinite(ttl) || ttl <= 0) throw new RangeError('jwtSvidTtlSeconds must be positive');
  const transport = options.transport ?? 'unix';

  let temporaryDirectory: string | undefined;
  let socketPath: string | undefined;
  if (transport === 'unix') {
    if (options.socketPath !== undefined) socketPath = resolve(options.socketPath);
    else {
      temporaryDirectory = mkdtempSync(join(tmpdir(), 'wimse-workload-api-'));
      socketPath = join(temporaryDirectory, 'agent.sock');
    }
  }
  let tcpPort = 0;

  const toSpiffeId = (identity: string): string =>
    identity.startsWith('/') ? trustDomain.spiffeId(identity) : identity;
  let identities = (options.identities ?? ['/workload']).map(toSpiffeId);
  let bundleOverride: Record<string, string> | undefined;
  const calls = Object.fromEntries(METHODS.map((method) => [method, 0])) as Record<WorkloadApiMethod, number>;
  let refusedWithoutSecurityHeader = 0;
  const failures: PendingFailure[] = [];
  const bundleStreams = new Set<ServerWritableStream<JwtBundlesRequestMessage, JwtBundlesResponseMessage>>();
  let server: Server | undefined;

  function currentBundles(): JwtBundlesResponseMessage {
    const documents: Record<string, string> =
      bundleOverride ?? Object.fromEntries(domains.map((domain) => [domain.id, jwksOf(domain, 'jwt-svid')]));
    return {
      bundles: Object.fromEntries(
        Object.entries(documents).map(([key, text]) => [key, Buffer.from(text, 'utf8')]),
      ),
    };
  }

  function publish(): void {
    const message = currentBundles();
    for (const stream of bundleStreams) stream.write(message);
  }

  /** Header check, counting and injected failures; the refusal to send, or undefined to proceed. */
  function admit(method: WorkloadApiMethod, metadata: Metadata): Partial<ServiceError> | undefined {
    calls[method] += 1;
    const values = metadata.get(WORKLOAD_API_SECURITY_HEADER.key);
    if (values.length !== 1 || values[0] !== WORKLOAD_API_SECURITY_HEADER.value) {
      refusedWithoutSecurityHeader += 1;
      return failure(GrpcStatus.INVALID_ARGUMENT, 'security header missing from request');
    }
    const index = failures.findIndex((pending) => pending.method === undefined || pending.method === method);
    if (index !== -1) {
      const [pending] = failures.splice(index, 1);
      if (pending !== undefined) return failure(pending.code, pending.details);
    }
    return undefined;
  }

  const fetchJwtSvid: handleUnaryCall<JwtSvidRequestMessage, JwtSvidResponseMessage> = (call, callback) => {
    const refusal = admit('FetchJWTSVID', call.metadata);
    if (refusal !== undefined) return callback(refusal);
    const audience = call.request.audience;
    if (audience.length === 0)
      return callback(failure(GrpcStatus.INVALID_ARGUMENT, 'audience must be specified'));
    const wanted = call.request.spiffeId;
    const selected = wanted.length === 0 ? identities : identities.filter((id) => id === wanted);
    if (selected.length === 0) {
      return callback(failure(GrpcStatus.PERMISSION_DENIED, 'no identity issued'));
    }
    callback(null, {
      svids: selected.map((spiffeId) => ({
        spiffeId,
        svid: trustDomain.issueJwtSvid({ sub: spiffeId, aud: audience, ttl }),
        hint: '',
      })),
    });
  };

  const fetchJwtBundles: handleServerStreamingCall<JwtBundlesRequestMessage, JwtBundlesResponseMessage> = (
    call,
  ) => {
    const refusal = admit('FetchJWTBundles', call.metadata);
    if (refusal !== undefined) {
      call.emit('error', refusal);
      return;
    }
    bundleStreams.add(call);
    const forget = () => bundleStreams.delete(call);
    call.on('cancelled', forget);
    call.on('close', forget);
    call.on('error', forget);
    // The first message comes at once, as the specification requires.
    call.write(currentBundles());
  };

  const validateJwtSvid: handleUnaryCall<ValidateJwtSvidRequestMessage, ValidateJwtSvidResponseMessage> = (
    call,
    callback,
  ) => {
    const refusal = admit('ValidateJWTSVID', call.metadata);
    if (refusal !== undefined) return callback(refusal);
    const { audience, svid } = call.request;
    if (audience.length === 0)
      return callback(failure(GrpcStatus.INVALID_ARGUMENT, 'audience must be specified'));
    if (svid.length === 0) return callback(failure(GrpcStatus.INVALID_ARGUMENT, 'svid must be specified'));
    verifyJwtSvid(svid, { trust, audience }).then(
      (verified) =>
        callback(null, { spiffeId: verified.spiffeId.toString(), claims: jsonToStruct(verified.claims) }),
      (error: unknown) => {
        const reason = isWimseError(error) ? error.code : 'invalid';
        callback(failure(GrpcStatus.INVALID_ARGUMENT, `JWT-SVID validation failed: ${reason}`));
      },
    );
  };

  const witUnimplemented =
    (method: 'FetchWITSVID' | 'FetchWITBundles'): handleServerStreamingCall<unknown, unknown> =>
    (call) => {
      const refusal = admit(method, call.metadata);
      call.emit('error', refusal ?? failure(GrpcStatus.UNIMPLEMENTED, `${method} is not implemented`));
    };

  // The WIT streams send one message and stay open until the client ends them.
  const fetchWitSvid: handleServerStreamingCall<WitSvidRequestMessage, WitSvidResponseMessage> = (call) => {
    const refusal = admit('FetchWITSVID', call.metadata);
    if (refusal !== undefined) {
      call.emit('error', refusal);
      return;
    }
    const wanted = call.request.spiffeId;
    const selected = wanted.length === 0 ? identities : identities.filter((id) => id === wanted);
    if (selected.length === 0) {
      call.emit('error', failure(GrpcStatus.PERMISSION_DENIED, 'no identity issued'));
      return;
    }
    call.write({
      svids: selected.map((spiffeId) => {
        const { token, workloadKey } = trustDomain.issueWit({ sub: spiffeId });
        const privateJwk = { ...workloadKey.privateKey.export({ format: 'jwk' }), alg: workloadKey.alg };
        return { spiffeId, witSvid: token, witSvidKey: JSON.stringify(privateJwk), hint: '' };
      }),
    });
  };

  const fetchWitBundles: handleServerStreamingCall<WitBundlesRequestMessage, WitBundlesResponseMessage> = (
    call,
  ) => {
    const refusal = admit('FetchWITBundles', call.metadata);
    if (refusal !== undefined) {
      call.emit('error', refusal);
      return;
    }
    call.write({
      bundles: Object.fromEntries(domains.map((domain) => [domain.id, jwksOf(domain, 'wit-svid')])),
    });
  };

  const witProfile = options.witProfile === true;
  const implementation: UntypedServiceImplementation = {
    FetchJWTSVID: fetchJwtSvid,
    FetchJWTBundles: fetchJwtBundles,
    ValidateJWTSVID: validateJwtSvid,
    FetchWITSVID: witProfile ? fetchWitSvid : witUnimplemented('FetchWITSVID'),
    FetchWITBundles: witProfile ? fetchWitBundles : witUnimplemented('FetchWITBundles'),
  };

  function bindTarget(): string {
    if (socketPath !== undefined) return `unix:${socketPath}`;
    return `127.0.0.1:${tcpPort}`;
  }

  async function start(): Promise<void> {
    if (server !== undefined) return;
    const created = new Server();
    created.addService(workloadApiService(), implementation);
    // A crashed agent leaves its socket file behind; a restarted one replaces it.
    if (socketPath !== undefined) rmSync(socketPath, { force: true });
    const port = await new Promise<number>((resolve, reject) => {
      created.bindAsync(bindTarget(), ServerCredentials.createInsecure(), (error, bound) =>
        error === null ? resolve(bound) : reject(error),
      );
    });
    if (socketPath === undefined) tcpPort = port;
    server = created;
  }

  async function stop(): Promise<void> {
    const running = server;
    if (running === undefined) return;
    server = undefined;
    bundleStreams.clear();
    running.forceShutdown();
  }

  await start();
  const endpoint = socketPath !== undefined ? `unix://${socketPath}` : `tcp://127.0.0.1:${tcpPort}`;

  const fake: FakeWorkloadApi = {
    endpoint,
    socketPath,
    trustDomain,
    get running() {
      return server !== undefined;
    },
    get calls() {
      return { ...calls };
    },
    get openBundleStreams() {
      return bundleStreams.size;
    },
    get refusedWithoutSecurityHeader() {
      return refusedWithoutSecurityHeader;
    },
    setIdentities(next) {
      if (next.length === 0) throw new TypeError('setIdentities needs at least one identity');
      identities = next.map(toSpiffeId);
    },
    setBundles(bundles) {
      bundleOverride =
        bundles === undefined
          ? undefined
          : Object.fromEntries(
              Object.entries(bundles).map(([key, value]) => [
                key,
                typeof value === 'string' ? value : JSON.stringify(value),
              ]),
            );
      publish();
    },
    publishBundles: publish,
    rotate() {
      trustDomain.rotateKeys();
      publish();
    },
    failNext(count, code, injected = {}) {
      if (!Number.isSafeInteger(count) || count < 0)
        throw new RangeError('count must be a non-negative integer');
      for (let i = 0; i < count; i++) {
        failures.push({ code, method: injected.method, details: injected.details ?? 'injected failure' });
      }
    },
    endBundleStreams() {
      for (const stream of bundleStreams) stream.end();
      bundleStreams.clear();
    },
    stop,
    start,
    async close() {
      await stop();
      if (temporaryDirectory !== undefined) rmSync(temporaryDirectory, { recursive: true, force: true });
    },
    [Symbol.asyncDispose]() {
      return fake.close();
    },
  };
  return fake;
}
