// @wimse-auth/grpc as users get it (the built package) over real loopback connections: TLS
// with call credentials, WIT + WPT and JWT-SVID, unary and streaming, replay, wrong audiences,
// missing and repeated metadata; and a Nest microservice where the interceptor and WimseGuard
// share one authentication per call.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Controller, Module, type Type } from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import { GrpcMethod, type MicroserviceOptions, Payload, Transport } from '@nestjs/microservices';
import { createWptSigner } from '@wimse-auth/client';
import { grpcAudience, type WimseEvent, type WorkloadPrincipal } from '@wimse-auth/core';
import {
  getWorkload,
  jwtSvidCallCredentials,
  wimseCallCredentials,
  wimseClientInterceptor,
  wimseServerInterceptor,
} from '@wimse-auth/grpc';
import { AllowWorkloads, WimseGuard, WimseModule, Workload } from '@wimse-auth/nestjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../support/tls.js';
import { CALLER_ID, createTestTrustDomain } from '../support/trust-domain.js';
import { freePort } from './setups.js';

const PROTO = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'support',
  'fixtures',
  'echo.proto',
);
const Echo = (
  grpc.loadPackageDefinition(protoLoader.loadSync(PROTO, { keepCase: true, defaults: true })) as unknown as {
    wimse: { test: { Echo: grpc.ServiceClientConstructor } };
  }
).wimse.test.Echo;

const AUTHORITY = 'echo.example.org';
const UNARY = '/wimse.test.Echo/UnaryEcho';
const STREAMING = '/wimse.test.Echo/ServerStreamingEcho';
const td = createTestTrustDomain();

interface Reply {
  message: string;
  caller: string;
}
interface Outcome {
  code: grpc.status;
  wimseError: string | undefined;
  replies: Reply[];
}

type EchoClient = grpc.Client & {
  UnaryEcho(
    request: { message: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: Reply) => void,
  ): grpc.ClientUnaryCall;
  ServerStreamingEcho(
    request: { message: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<Reply>;
};

const options = () => ({ deadline: Date.now() + 10_000 });
const errorCode = (metadata: grpc.Metadata | undefined) => {
  const value = metadata?.get('wimse-error')[0];
  return value === undefined ? undefined : String(value);
};

function unary(client: EchoClient, metadata = new grpc.Metadata()): Promise<Outcome> {
  return new Promise((resolve) =>
    client.UnaryEcho({ message: 'hi' }, metadata, options(), (error, reply) =>
      resolve({
        code: error ? error.code : grpc.status.OK,
        wimseError: errorCode(error?.metadata),
        replies: reply ? [reply] : [],
      }),
    ),
  );
}

function streaming(client: EchoClient, metadata = new grpc.Metadata()): Promise<Outcome> {
  return new Promise((resolve) => {
    const replies: Reply[] = [];
    const call = client.ServerStreamingEcho({ message: 'hi' }, metadata, options());
    call.on('data', (reply: Reply) => replies.push(reply));
    call.on('error', () => {});
    call.on('status', (status) =>
      resolve({ code: status.code, wimseError: errorCode(status.metadata), replies }),
    );
  });
}

function workload(sub = CALLER_ID) {
  const key = td.domain.generateWorkloadKey();
  return { wit: td.domain.issueWit({ sub, key }).token, privateKey: key.privateKey };
}

/** Metadata carrying a WIT and one proof for `aud` (as a captured call would). */
async function capturedProof(aud = `https://${AUTHORITY}${UNARY}`): Promise<Record<string, string>> {
  const signed = await createWptSigner(workload()).sign({ url: aud });
  return { 'workload-identity-token': signed.wit, authorization: `WPT ${signed.wpt}` };
}

function metadataOf(pairs: Record<string, string | string[]>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(pairs)) {
    for (const one of Array.isArray(value) ? value : [value]) metadata.add(key, one);
  }
  return metadata;
}

describe('grpc-js server with wimseServerInterceptor, over TLS', () => {
  const certificate = selfSignedCertificate();
  const server = new grpc.Server({
    interceptors: [wimseServerInterceptor({ trust: td.trust, audience: { authorities: [AUTHORITY] } })],
  });
  let target: string;
  const tls = () => grpc.credentials.createSsl(certificate.cert);
  const client = (callCredentials?: grpc.CallCredentials) =>
    new Echo(
      target,
      callCredentials === undefined
        ? tls()
        : grpc.credentials.combineChannelCredentials(tls(), callCredentials),
    ) as unknown as EchoClient;

  beforeAll(async () => {
    server.addService(Echo.service, {
      UnaryEcho: (
        call: grpc.ServerUnaryCall<{ message: string }, Reply>,
        callback: grpc.sendUnaryData<Reply>,
      ) => callback(null, { message: call.request.message, caller: getWorkload(call)?.id ?? '' }),
      ServerStreamingEcho: (call: grpc.ServerWritableStream<{ message: string }, Reply>) => {
        for (let i = 0; i < 3; i++) call.write({ message: `${i}`, caller: getWorkload(call)?.id ?? '' });
        call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        '127.0.0.1:0',
        grpc.ServerCredentials.createSsl(null, [
          { cert_chain: certificate.cert, private_key: certificate.key },
        ]),
        (error, bound) => (error ? reject(error) : resolve(bound)),
      ),
    );
    target = `localhost:${port}`;
  });
  afterAll(() => {
    server.forceShutdown();
  });

  it('WIT + WPT call credentials: unary and server-streaming calls', async () => {
    const wimse = client(wimseCallCredentials({ ...workload(), authority: AUTHORITY }));
    expect(await unary(wimse)).toMatchObject({ code: grpc.status.OK, replies: [{ caller: CALLER_ID }] });
    const streamed = await streaming(wimse);
    expect(streamed.code).toBe(grpc.status.OK);
    expect(streamed.replies.map((reply) => reply.caller)).toEqual([CALLER_ID, CALLER_ID, CALLER_ID]);
  });

  it('JWT-SVID call credentials: unary and server-streaming calls', async () => {
    const bearer = client(
      jwtSvidCallCredentials({ authority: AUTHORITY, token: ({ audience }) => td.issueJwtSvid(audience) }),
    );
    expect(await unary(bearer)).toMatchObject({ code: grpc.status.OK, replies: [{ caller: CALLER_ID }] });
    expect((await streaming(bearer)).replies).toHaveLength(3);
  });

  it('a proof replayed on a second call is refused', async () => {
    const captured = await capturedProof();
    const plain = client();
    expect((await unary(plain, metadataOf(captured))).code).toBe(grpc.status.OK);
    expect(await unary(plain, metadataOf(captured))).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'replay_detected',
    });
  });

  it('a proof for another method or another authority is refused', async () => {
    const plain = client();
    expect(
      await unary(plain, metadataOf(await capturedProof(`https://${AUTHORITY}${STREAMING}`))),
    ).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'audience_mismatch',
    });
    expect(
      await unary(plain, metadataOf(await capturedProof(`https://other.example.org${UNARY}`))),
    ).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'audience_mismatch',
    });
    // The name the client dialled is not an audience unless the server lists it.
    expect(await unary(client(wimseCallCredentials({ ...workload(), authority: target })))).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'audience_mismatch',
    });
  });

  it('missing and repeated credential metadata are refused, for unary and streaming calls', async () => {
    const plain = client();
    expect(await unary(plain)).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'credentials_missing',
    });
    expect(await streaming(plain)).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      wimseError: 'credentials_missing',
      replies: [],
    });
    const captured = await capturedProof();
    const second = await capturedProof();
    for (const pairs of [
      {
        ...captured,
        'workload-identity-token': [captured['workload-identity-token']!, second['workload-identity-token']!],
      },
      { ...captured, 'workload-proof-token': second.authorization!.slice(4) },
    ]) {
      expect(await unary(plain, metadataOf(pairs))).toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
        wimseError: 'credentials_malformed',
      });
    }
  });

  it('call credentials added next to a caller-set authorization value never downgrade', async () => {
    // grpc-js merges call-credential metadata into the call's own: two authorization values,
    // which grpc-js refuses to send at all.
    const wimse = client(wimseCallCredentials({ ...workload(), authority: AUTHORITY }));
    const outcome = await unary(
      wimse,
      metadataOf({ authorization: `Bearer ${td.issueJwtSvid(`https://${AUTHORITY}`)}` }),
    );
    expect(outcome.code).not.toBe(grpc.status.OK);
  });
});

describe('Nest microservice: transport interceptor and WimseGuard authenticate once', () => {
  let app: { close(): Promise<void> };
  let client: EchoClient;
  const guardEvents: WimseEvent[] = [];
  const interceptorEvents: WimseEvent[] = [];
  const ADMIN = 'spiffe://example.org/ns/ops/sa/admin';

  beforeAll(async () => {
    class EchoController {
      unary(request: { message: string }, principal: WorkloadPrincipal): Reply {
        return { message: request.message, caller: principal.id };
      }
    }
    Controller()(EchoController);
    const descriptor = Object.getOwnPropertyDescriptor(EchoController.prototype, 'unary')!;
    GrpcMethod('Echo', 'UnaryEcho')(EchoController.prototype, 'unary', descriptor);
    AllowWorkloads(CALLER_ID)(EchoController.prototype, 'unary', descriptor);
    Payload()(EchoController.prototype, 'unary', 0);
    Workload()(EchoController.prototype, 'unary', 1);
    class AppModule {}
    Module({
      imports: [
        WimseModule.forRoot({
          trust: td.trust,
          audience: grpcAudience({ authorities: [AUTHORITY] }),
          onEvent: (event) => guardEvents.push(event),
        }),
      ],
      controllers: [EchoController],
      providers: [{ provide: APP_GUARD, useClass: WimseGuard }],
    })(AppModule);

    const port = await freePort();
    app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule as Type<unknown>, {
      transport: Transport.GRPC,
      options: {
        package: 'wimse.test',
        protoPath: PROTO,
        url: `127.0.0.1:${port}`,
        loader: { keepCase: true },
        // Nest passes channelOptions to grpc.Server: a transport-wide interceptor.
        channelOptions: {
          interceptors: [
            wimseServerInterceptor({
              trust: td.trust,
              audience: { authorities: [AUTHORITY] },
              onEvent: (event) => interceptorEvents.push(event),
            }),
          ],
        } as grpc.ChannelOptions,
      },
      logger: false,
    });
    await (app as unknown as { listen(): Promise<void> }).listen();
    client = new Echo(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      interceptors: [
        wimseClientInterceptor({ ...workload(), authority: AUTHORITY, allowInsecureChannel: true }),
      ],
    }) as unknown as EchoClient;
  });
  afterAll(async () => {
    client?.close();
    await app?.close();
  });

  it('the guard uses the principal the interceptor recorded, and still applies @AllowWorkloads', async () => {
    expect(await unary(client)).toMatchObject({ code: grpc.status.OK, replies: [{ caller: CALLER_ID }] });
    expect(interceptorEvents.filter((event) => event.name === 'authenticated')).toHaveLength(1);
    expect(guardEvents.filter((event) => event.name === 'authenticated')).toHaveLength(0);

    const admin = new Echo(
      client.getChannel().getTarget().replace(/^dns:/, ''),
      grpc.credentials.createInsecure(),
      {
        interceptors: [
          wimseClientInterceptor({ ...workload(ADMIN), authority: AUTHORITY, allowInsecureChannel: true }),
        ],
      },
    ) as unknown as EchoClient;
    try {
      expect(await unary(admin)).toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
        wimseError: 'access_denied',
      });
    } finally {
      admin.close();
    }
  });
});
