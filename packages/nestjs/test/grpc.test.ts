// WimseGuard, the parameter and policy decorators on a Nest gRPC microservice, over a real
// loopback connection (grpc-js client, Nest's gRPC transport).
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Controller, type INestMicroservice, Module, UseGuards } from '@nestjs/common';
import {
  GrpcMethod,
  GrpcStreamMethod,
  type MicroserviceOptions,
  Payload,
  Transport,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { createWptSigner } from '@wimse-auth/client';
import { type BundleSource, grpcAudience, type WorkloadPrincipal } from '@wimse-auth/core';
import { wimseServerInterceptor } from '@wimse-auth/grpc';
import { map, type Observable, of } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLER_ID, createTestTrustDomain } from '../../../test/support/trust-domain.js';
import {
  AllowWorkloads,
  OptionalAuthentication,
  SpiffeId,
  TrustDomain,
  WimseGuard,
  WimseModule,
  Workload,
} from '../src/index.js';

const PROTO = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'test',
  'support',
  'fixtures',
  'echo.proto',
);
const AUTHORITY = 'echo.example.org';
const ADMIN = 'spiffe://example.org/ns/ops/sa/admin';
const BROKEN = 'broken.example';
const UNARY = '/wimse.test.Echo/UnaryEcho';

const td = createTestTrustDomain();
const trust: BundleSource = {
  getBundle: (trustDomain) => {
    if (trustDomain.name === BROKEN) throw new Error('bundle endpoint unreachable');
    return td.trust.getBundle(trustDomain);
  },
};

interface EchoRequest {
  message: string;
}
interface EchoReply {
  message: string;
  caller: string;
}

@Controller()
@UseGuards(WimseGuard)
class EchoController {
  @OptionalAuthentication()
  @GrpcMethod('Echo', 'UnaryEcho')
  unary(
    @Payload() request: EchoRequest,
    @Workload() workload: WorkloadPrincipal | undefined,
    @SpiffeId() spiffeId: string | undefined,
    @TrustDomain() trustDomain: string | undefined,
  ): EchoReply {
    const caller = workload === undefined ? '' : `${workload.id}|${spiffeId}|${trustDomain}`;
    return { message: request.message, caller };
  }

  @AllowWorkloads(ADMIN)
  @GrpcMethod('Echo', 'ServerStreamingEcho')
  streaming(@Payload() request: EchoRequest, @Workload() workload: WorkloadPrincipal): Observable<EchoReply> {
    return of(0, 1, 2).pipe(map((i) => ({ message: `${request.message} ${i}`, caller: workload.id })));
  }

  @GrpcStreamMethod('Echo', 'BidiEcho')
  bidi(
    @Payload() messages: Observable<EchoRequest>,
    @Workload() workload: WorkloadPrincipal,
  ): Observable<EchoReply> {
    return messages.pipe(map((request) => ({ message: request.message, caller: workload.id })));
  }
}

@Module({
  imports: [WimseModule.forRoot({ trust, audience: grpcAudience({ authorities: [AUTHORITY] }) })],
  controllers: [EchoController],
})
class AppModule {}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

type EchoClient = grpc.Client & {
  UnaryEcho(
    request: EchoRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: EchoReply) => void,
  ): grpc.ClientUnaryCall;
  ServerStreamingEcho(
    request: EchoRequest,
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<EchoReply>;
  BidiEcho(
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientDuplexStream<EchoRequest, EchoReply>;
};

interface Outcome {
  code: grpc.status;
  details: string;
  wimseError: string | undefined;
  replies: EchoReply[];
}

function outcomeOf(status: grpc.StatusObject, replies: EchoReply[]): Outcome {
  const value = status.metadata?.get('wimse-error')[0];
  return {
    code: status.code,
    details: status.details,
    wimseError: value === undefined ? undefined : String(value),
    replies,
  };
}

const options = () => ({ deadline: Date.now() + 10_000 });

function unary(client: EchoClient, metadata: grpc.Metadata): Promise<Outcome> {
  return new Promise((resolve) => {
    client.UnaryEcho({ message: 'hi' }, metadata, options(), (error, reply) =>
      resolve(
        error
          ? outcomeOf({ code: error.code, details: error.details, metadata: error.metadata }, [])
          : { code: grpc.status.OK, details: '', wimseError: undefined, replies: reply ? [reply] : [] },
      ),
    );
  });
}

function collect(call: grpc.ClientReadableStream<EchoReply>): Promise<Outcome> {
  return new Promise((resolve) => {
    const replies: EchoReply[] = [];
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', () => {});
    call.on('status', (status) => resolve(outcomeOf(status, replies)));
  });
}

async function proofMetadata(sub = CALLER_ID, aud = `https://${AUTHORITY}${UNARY}`): Promise<grpc.Metadata> {
  const key = td.domain.generateWorkloadKey();
  const wit = td.domain.issueWit({ sub, key }).token;
  const signed = await createWptSigner({ wit, privateKey: key.privateKey }).sign({ url: aud });
  const metadata = new grpc.Metadata();
  metadata.set('workload-identity-token', signed.wit);
  metadata.set('authorization', `WPT ${signed.wpt}`);
  return metadata;
}

/** The Echo microservice on a free loopback port, with extra grpc-js server options. */
async function startEcho(
  channelOptions: Record<string, unknown> = {},
): Promise<{ app: INestMicroservice; client: EchoClient }> {
  const port = await freePort();
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestMicroservice<MicroserviceOptions>({
    transport: Transport.GRPC,
    options: {
      package: 'wimse.test',
      protoPath: PROTO,
      url: `127.0.0.1:${port}`,
      loader: { keepCase: true },
      channelOptions,
    },
    logger: false,
  });
  await app.listen();
  const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true })) as unknown as {
    wimse: { test: { Echo: grpc.ServiceClientConstructor } };
  };
  const client = new loaded.wimse.test.Echo(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as EchoClient;
  return { app, client };
}

describe('WimseGuard on a Nest gRPC microservice', () => {
  let app: INestMicroservice;
  let client: EchoClient;

  beforeAll(async () => {
    ({ app, client } = await startEcho());
  });
  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it('authenticates a @GrpcMethod call and fills @Workload, @SpiffeId and @TrustDomain', async () => {
    expect(await unary(client, await proofMetadata())).toMatchObject({
      code: grpc.status.OK,
      replies: [{ message: 'hi', caller: `${CALLER_ID}|${CALLER_ID}|example.org` }],
    });
  });

  it('accepts a JWT-SVID addressed to the method', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${td.issueJwtSvid(`https://${AUTHORITY}${UNARY}`)}`);
    expect(await unary(client, metadata)).toMatchObject({ code: grpc.status.OK });
  });

  it('lets @OptionalAuthentication calls without credentials through with no principal', async () => {
    expect(await unary(client, new grpc.Metadata())).toMatchObject({
      code: grpc.status.OK,
      replies: [{ caller: '' }],
    });
  });

  it('answers UNAUTHENTICATED with wimse-error for a bad, replayed or misaddressed proof', async () => {
    const metadata = await proofMetadata();
    expect((await unary(client, metadata)).code).toBe(grpc.status.OK);
    expect(await unary(client, metadata)).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'replay_detected',
      details: 'this proof was already used',
    });
    expect(
      await unary(client, await proofMetadata(CALLER_ID, `https://${AUTHORITY}/wimse.test.Echo/BidiEcho`)),
    ).toMatchObject({ code: grpc.status.UNAUTHENTICATED, wimseError: 'audience_mismatch' });
    const witOnly = new grpc.Metadata();
    witOnly.set('workload-identity-token', td.issueWit());
    expect(await unary(client, witOnly)).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'credentials_malformed',
    });
  });

  it('answers UNAVAILABLE when trust material is unavailable', async () => {
    expect(await unary(client, await proofMetadata(`spiffe://${BROKEN}/w`))).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      wimseError: 'trust_unavailable',
    });
  });

  it('applies @AllowWorkloads to a server-streaming method: PERMISSION_DENIED or the stream', async () => {
    const aud = `https://${AUTHORITY}/wimse.test.Echo/ServerStreamingEcho`;
    const denied = await collect(
      client.ServerStreamingEcho({ message: 'x' }, await proofMetadata(CALLER_ID, aud), options()),
    );
    expect(denied).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      wimseError: 'access_denied',
      replies: [],
    });
    const allowed = await collect(
      client.ServerStreamingEcho({ message: 'x' }, await proofMetadata(ADMIN, aud), options()),
    );
    expect(allowed.code).toBe(grpc.status.OK);
    expect(allowed.replies).toEqual([0, 1, 2].map((i) => ({ message: `x ${i}`, caller: ADMIN })));
    const missing = await collect(
      client.ServerStreamingEcho({ message: 'x' }, new grpc.Metadata(), options()),
    );
    expect(missing).toMatchObject({ code: grpc.status.UNAUTHENTICATED, wimseError: 'credentials_missing' });
  });

  it('refuses a @GrpcStreamMethod (bidi) call without credentials before any message is handled', async () => {
    const call = client.BidiEcho(new grpc.Metadata(), options());
    const done = collect(call);
    call.write({ message: 'a' });
    call.end();
    expect(await done).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'credentials_missing',
      replies: [],
    });
  });
});

// Nest's gRPC transport reads a stream's messages into a plain Subject as they arrive and
// subscribes the handler only once the guards have passed; messages that arrive while the
// guard is still verifying a proof are dropped (never handled unauthenticated). The grpc-js
// interceptor holds them until the call is authenticated, and the guard then reuses its
// principal, so streaming methods get every message.
describe('WimseGuard with wimseServerInterceptor on the transport (streaming methods)', () => {
  let app: INestMicroservice;
  let client: EchoClient;

  beforeAll(async () => {
    const interceptor = wimseServerInterceptor({ trust, audience: { authorities: [AUTHORITY] } });
    ({ app, client } = await startEcho({ interceptors: [interceptor] }));
  });
  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it('delivers every message of an authenticated bidi call, and refuses one without credentials', async () => {
    const aud = `https://${AUTHORITY}/wimse.test.Echo/BidiEcho`;
    const run = async (metadata: grpc.Metadata) => {
      const call = client.BidiEcho(metadata, options());
      const done = collect(call);
      call.write({ message: 'a' });
      call.write({ message: 'b' });
      call.end();
      return done;
    };
    expect(await run(await proofMetadata(CALLER_ID, aud))).toMatchObject({
      code: grpc.status.OK,
      replies: [
        { message: 'a', caller: CALLER_ID },
        { message: 'b', caller: CALLER_ID },
      ],
    });
    expect(await run(new grpc.Metadata())).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'credentials_missing',
      replies: [],
    });
  });
});
