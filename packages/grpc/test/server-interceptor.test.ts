import * as grpc from '@grpc/grpc-js';
import { type BundleSource, createAuthenticator, grpcAudience, type WimseEvent } from '@wimse-auth/core';
import { createTestTrustDomain } from '@wimse-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  jwtSvidClientInterceptor,
  requireWorkload,
  wimseClientInterceptor,
  wimseServerInterceptor,
} from '../src/index.js';
import {
  bidi,
  echoClient,
  metadataOf,
  type RunningServer,
  STREAMING,
  startEchoServer,
  streaming,
  UNARY,
  unary,
} from './support.js';

const AUTHORITY = 'echo.example.org';
const td = createTestTrustDomain('example.org');
const CLIENT = td.spiffeId('/client');
const OTHER = td.spiffeId('/other');
const BROKEN = 'broken.example';

const trust: BundleSource = {
  getBundle: (trustDomain) => {
    if (trustDomain.name === BROKEN) throw new Error('bundle endpoint unreachable');
    return td.bundleSource.getBundle(trustDomain);
  },
};

function workload(sub = CLIENT) {
  const key = td.generateWorkloadKey();
  return { wit: td.issueWit({ sub, key }).token, privateKey: key.privateKey };
}

function proofClient(target: string, sub = CLIENT, authority = AUTHORITY) {
  return echoClient(target, {
    interceptors: [wimseClientInterceptor({ ...workload(sub), authority, allowInsecureChannel: true })],
  });
}

describe('wimseServerInterceptor over a loopback connection', () => {
  let server: RunningServer;
  const events: WimseEvent[] = [];
  beforeAll(async () => {
    server = await startEchoServer([
      wimseServerInterceptor({
        trust,
        audience: { authorities: [AUTHORITY, 'echo.internal:8443'] },
        authorize: { [STREAMING]: [CLIENT], 'wimse.test.Echo': ['spiffe://example.org/*'] },
        onEvent: (event) => events.push(event),
      }),
    ]);
  });
  afterAll(() => server.close());

  it('authenticates a unary call with WIT + WPT and hands the principal to the handler', async () => {
    const outcome = await unary(proofClient(server.target));
    expect(outcome).toMatchObject({ code: grpc.status.OK, replies: [{ message: 'hello', caller: CLIENT }] });
  });

  it('accepts the proof form in workload-proof-token and any listed authority', async () => {
    const client = echoClient(server.target, {
      interceptors: [
        wimseClientInterceptor({
          ...workload(),
          authority: 'echo.internal:8443',
          transport: 'wpt-header',
          allowInsecureChannel: true,
        }),
      ],
    });
    expect(await unary(client)).toMatchObject({ code: grpc.status.OK, replies: [{ caller: CLIENT }] });
  });

  it('authenticates server-streaming and bidi calls once, before the handler', async () => {
    const client = proofClient(server.target);
    const before = { ...server.runs };
    const streamed = await streaming(client);
    expect(streamed.code).toBe(grpc.status.OK);
    expect(streamed.replies.map((reply) => reply.caller)).toEqual([CLIENT, CLIENT, CLIENT]);
    // Messages sent right away wait for authentication, then all reach the handler.
    const echoed = await bidi(client, ['a', 'b', 'c']);
    expect(echoed.code).toBe(grpc.status.OK);
    expect(echoed.replies).toEqual([
      { message: 'a', caller: CLIENT },
      { message: 'b', caller: CLIENT },
      { message: 'c', caller: CLIENT },
    ]);
    expect(server.runs.streaming - before.streaming).toBe(1);
    expect(server.runs.bidi - before.bidi).toBe(1);
  });

  it('authenticates a bearer JWT-SVID addressed to the method', async () => {
    const seen: string[] = [];
    const client = echoClient(server.target, {
      interceptors: [
        jwtSvidClientInterceptor({
          authority: AUTHORITY,
          token: ({ audience, path }) => {
            seen.push(`${path} ${audience}`);
            return td.issueJwtSvid({ sub: CLIENT, aud: audience });
          },
          allowInsecureChannel: true,
        }),
      ],
    });
    expect(await unary(client)).toMatchObject({ code: grpc.status.OK, replies: [{ caller: CLIENT }] });
    expect(seen).toEqual([`${UNARY} https://${AUTHORITY}${UNARY}`]);
  });

  it('rejects a replayed proof on the second call with UNAUTHENTICATED replay_detected', async () => {
    const { wit, privateKey } = workload();
    const { createWptSigner } = await import('@wimse-auth/client');
    const signed = await createWptSigner({ wit, privateKey }).sign({
      url: `https://${AUTHORITY}${UNARY}`,
    });
    const pairs = { 'workload-identity-token': signed.wit, authorization: `WPT ${signed.wpt}` };
    const client = echoClient(server.target);
    expect((await unary(client, metadataOf(pairs))).code).toBe(grpc.status.OK);
    const replayed = await unary(client, metadataOf(pairs));
    expect(replayed).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      trailers: { 'wimse-error': ['replay_detected'] },
    });
    expect(replayed.details).not.toContain(signed.wpt.split('.')[2]);
  });

  it('rejects proofs for another method or another authority', async () => {
    const otherMethod = echoClient(server.target, {
      interceptors: [
        wimseClientInterceptor({
          ...workload(),
          audience: () => `https://${AUTHORITY}${STREAMING}`,
          allowInsecureChannel: true,
        }),
      ],
    });
    const otherAuthority = proofClient(server.target, CLIENT, 'elsewhere.example.org');
    for (const client of [otherMethod, otherAuthority]) {
      expect(await unary(client)).toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
        trailers: { 'wimse-error': ['audience_mismatch'] },
        replies: [],
      });
    }
  });

  it('rejects missing and duplicated credentials without running the handler', async () => {
    const before = server.runs.unary;
    const client = echoClient(server.target);
    expect(await unary(client)).toMatchObject({
      code: grpc.status.UNAUTHENTICATED,
      trailers: { 'wimse-error': ['credentials_missing'] },
    });
    const { wit, privateKey } = workload();
    const { createWptSigner } = await import('@wimse-auth/client');
    const signer = createWptSigner({ wit, privateKey });
    const proof = async () => (await signer.sign({ url: `https://${AUTHORITY}${UNARY}` })).wpt;
    // grpc-js refuses to send two `authorization` values (and Node's HTTP/2 server would keep
    // only the first), so duplicates are exercised on the other credential keys.
    for (const pairs of [
      { 'workload-identity-token': [wit, wit], authorization: `WPT ${await proof()}` },
      { 'workload-identity-token': wit, 'workload-proof-token': [await proof(), await proof()] },
      {
        'workload-identity-token': wit,
        authorization: `WPT ${await proof()}`,
        'workload-proof-token': await proof(),
      },
      { 'workload-identity-token': wit },
      { 'workload-proof-token': await proof() },
    ]) {
      expect(await unary(client, metadataOf(pairs))).toMatchObject({
        code: grpc.status.UNAUTHENTICATED,
        trailers: { 'wimse-error': ['credentials_malformed'] },
      });
    }
    expect(server.runs.unary).toBe(before);
  });

  it('denies by method rule with PERMISSION_DENIED and never runs the handler', async () => {
    const before = server.runs.streaming;
    const other = proofClient(server.target, OTHER);
    expect(await streaming(other)).toMatchObject({
      code: grpc.status.PERMISSION_DENIED,
      trailers: { 'wimse-error': ['access_denied'] },
      replies: [],
    });
    expect(server.runs.streaming).toBe(before);
    // The service rule admits the same caller on the other methods.
    expect(await unary(proofClient(server.target, OTHER))).toMatchObject({ code: grpc.status.OK });
  });

  it('answers UNAVAILABLE when trust material cannot be read', async () => {
    const client = proofClient(server.target, `spiffe://${BROKEN}/w`);
    expect(await unary(client)).toMatchObject({
      code: grpc.status.UNAVAILABLE,
      trailers: { 'wimse-error': ['trust_unavailable'] },
    });
  });

  it('reports authentications and rejections as events without token material', () => {
    const names = new Set(events.map((event) => event.name));
    expect(names.has('authenticated')).toBe(true);
    expect(names.has('rejected')).toBe(true);
    expect(JSON.stringify(events)).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });
});

describe('wimseServerInterceptor options', () => {
  it('serves public methods without reading credentials, and denies methods no rule covers', async () => {
    const server = await startEchoServer([
      wimseServerInterceptor({
        trust,
        audience: { selfId: 'spiffe://example.org/echo' },
        publicMethods: [UNARY],
        authorize: { [STREAMING]: CLIENT },
      }),
    ]);
    try {
      expect(await unary(echoClient(server.target))).toMatchObject({
        code: grpc.status.OK,
        replies: [{ caller: '' }],
      });
      const client = echoClient(server.target, {
        interceptors: [
          wimseClientInterceptor({
            ...workload(),
            audience: 'spiffe://example.org/echo',
            allowInsecureChannel: true,
          }),
        ],
      });
      expect(await streaming(client)).toMatchObject({ code: grpc.status.OK });
      expect(await bidi(client, ['x'])).toMatchObject({
        code: grpc.status.PERMISSION_DENIED,
        details: 'no authorization rule covers this method',
      });
      expect(server.runs.bidi).toBe(0);
    } finally {
      await server.close();
    }
  });

  it('takes a ready authenticator, and refuses bad options at startup', () => {
    const authenticator = createAuthenticator({
      trust,
      audience: grpcAudience({ authorities: [AUTHORITY] }),
    });
    expect(typeof wimseServerInterceptor({ authenticator, authorize: CLIENT })).toBe('function');
    expect(() => wimseServerInterceptor({ trust, audience: {} })).toThrow(/empty/);
    expect(() => wimseServerInterceptor({ trust, audience: { authorities: ['https://x'] } })).toThrow(
      TypeError,
    );
    expect(() =>
      wimseServerInterceptor({ trust, audience: { authorities: [AUTHORITY] }, authorize: { 'a/b': CLIENT } }),
    ).toThrow(/rule key/);
    expect(() =>
      wimseServerInterceptor({
        trust,
        audience: { authorities: [AUTHORITY] },
        authorize: { '/a/b/c': CLIENT },
      }),
    ).toThrow(TypeError);
    expect(() =>
      wimseServerInterceptor({ trust, audience: { authorities: [AUTHORITY] }, authorize: ['not an id'] }),
    ).toThrow();
    expect(() =>
      wimseServerInterceptor({ trust, audience: { authorities: [AUTHORITY] }, publicMethods: ['a/b'] }),
    ).toThrow(/publicMethods/);
    expect(() => wimseServerInterceptor({ authenticator, trust } as never)).toThrow(/not both/);
  });

  it('fails closed on a registered method whose path is not /<package.Service>/<Method>', async () => {
    const bytes = (value: Buffer) => value;
    const definition = {
      Weird: {
        path: '/weird',
        requestStream: false,
        responseStream: false,
        requestSerialize: bytes,
        requestDeserialize: bytes,
        responseSerialize: bytes,
        responseDeserialize: bytes,
      },
    };
    let ran = 0;
    const server = new grpc.Server({
      interceptors: [
        wimseServerInterceptor({
          trust,
          audience: { authorities: [AUTHORITY] },
          publicMethods: ['wimse.test.Echo'],
        }),
      ],
    });
    server.addService(definition, {
      Weird: (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => {
        ran++;
        callback(null, Buffer.alloc(0));
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const code = await new Promise<grpc.status>((resolve) =>
        client.makeUnaryRequest(
          '/weird',
          bytes,
          bytes,
          Buffer.alloc(0),
          new grpc.Metadata(),
          { deadline: Date.now() + 10_000 },
          (error) => resolve(error ? error.code : grpc.status.OK),
        ),
      );
      expect(code).toBe(grpc.status.INTERNAL);
      expect(ran).toBe(0);
    } finally {
      client.close();
      server.forceShutdown();
    }
  });

  it('lets handlers require a principal', () => {
    expect(() => requireWorkload({ metadata: new grpc.Metadata() })).toThrow(/not authenticated/);
  });
});
