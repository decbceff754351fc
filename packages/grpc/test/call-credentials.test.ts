import * as grpc from '@grpc/grpc-js';
import { createWptSigner } from '@wimse-auth/client';
import { createTestTrustDomain } from '@wimse-auth/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selfSignedCertificate } from '../../../test/support/tls.js';
import {
  jwtSvidCallCredentials,
  jwtSvidChannelCredentials,
  jwtSvidClientInterceptor,
  wimseCallCredentials,
  wimseChannelCredentials,
  wimseClientInterceptor,
  wimseServerInterceptor,
} from '../src/index.js';
import {
  bidi,
  echoClient,
  type RunningServer,
  STREAMING,
  startEchoServer,
  streaming,
  UNARY,
  unary,
} from './support.js';

const td = createTestTrustDomain('example.org');
const CLIENT = td.spiffeId('/client');
const SERVER_ID = td.spiffeId('/echo');
const AUTHORITY = 'localhost';

function workload() {
  const key = td.generateWorkloadKey();
  return { wit: td.issueWit({ sub: CLIENT, key }).token, privateKey: key.privateKey };
}

describe('call credentials over TLS', () => {
  const certificate = selfSignedCertificate();
  let server: RunningServer;
  const tls = () => grpc.credentials.createSsl(certificate.cert);

  beforeAll(async () => {
    server = await startEchoServer(
      [
        wimseServerInterceptor({
          trust: td.bundleSource,
          audience: { authorities: [AUTHORITY], selfId: SERVER_ID },
          authorize: CLIENT,
        }),
      ],
      grpc.ServerCredentials.createSsl(null, [
        { cert_chain: certificate.cert, private_key: certificate.key },
      ]),
    );
  });
  afterAll(() => server.close());

  it('sends the WIT and a fresh proof per call, for unary and streaming methods', async () => {
    const audiences: string[] = [];
    const base = createWptSigner(workload());
    const signer = {
      sign: (request: Parameters<typeof base.sign>[0]) => {
        audiences.push(String(request.audience));
        return base.sign(request);
      },
    };
    const credentials = grpc.credentials.combineChannelCredentials(
      tls(),
      wimseCallCredentials({ signer, authority: AUTHORITY }),
    );
    const client = echoClient(`localhost:${server.port}`, {}, credentials);
    expect(await unary(client)).toMatchObject({ code: grpc.status.OK, replies: [{ caller: CLIENT }] });
    expect(await unary(client)).toMatchObject({ code: grpc.status.OK });
    const streamed = await streaming(client);
    expect(streamed.code).toBe(grpc.status.OK);
    expect(streamed.replies).toHaveLength(3);
    expect((await bidi(client, ['a', 'b'])).replies.map((reply) => reply.message)).toEqual(['a', 'b']);
    expect(audiences.slice(0, 3)).toEqual([
      `https://${AUTHORITY}${UNARY}`,
      `https://${AUTHORITY}${UNARY}`,
      `https://${AUTHORITY}${STREAMING}`,
    ]);
  });

  it("sends a JWT-SVID from a provider, addressed to the server's SPIFFE ID", async () => {
    const credentials = grpc.credentials.combineChannelCredentials(
      tls(),
      jwtSvidCallCredentials({
        audience: SERVER_ID,
        token: ({ audience }) => td.issueJwtSvid({ sub: CLIENT, aud: audience }),
      }),
    );
    const client = echoClient(`localhost:${server.port}`, {}, credentials);
    expect(await unary(client)).toMatchObject({ code: grpc.status.OK, replies: [{ caller: CLIENT }] });
  });

  it('fails the call with UNAVAILABLE, sending nothing, when no credential can be produced', async () => {
    const before = server.runs.unary;
    const credentials = grpc.credentials.combineChannelCredentials(
      tls(),
      jwtSvidCallCredentials({
        authority: AUTHORITY,
        token: () => Promise.reject(new Error('workload API unreachable')),
      }),
    );
    const outcome = await unary(echoClient(`localhost:${server.port}`, {}, credentials));
    expect(outcome.code).toBe(grpc.status.UNAVAILABLE);
    expect(outcome.details).toContain('workload API unreachable');
    expect(server.runs.unary).toBe(before);
  });

  it('wimseChannelCredentials and jwtSvidChannelCredentials combine TLS with the call credentials', async () => {
    const wimse = echoClient(
      `localhost:${server.port}`,
      {},
      wimseChannelCredentials(tls(), { ...workload(), authority: AUTHORITY }),
    );
    expect(await unary(wimse)).toMatchObject({ code: grpc.status.OK, replies: [{ caller: CLIENT }] });
    const bearer = echoClient(
      `localhost:${server.port}`,
      {},
      jwtSvidChannelCredentials(tls(), {
        audience: SERVER_ID,
        token: ({ audience }) => td.issueJwtSvid({ sub: CLIENT, aud: audience }),
      }),
    );
    expect(await unary(bearer)).toMatchObject({ code: grpc.status.OK, replies: [{ caller: CLIENT }] });
  });

  it('works as per-call credentials too', async () => {
    const client = echoClient(`localhost:${server.port}`, {}, tls());
    const outcome = await new Promise<grpc.status>((resolve) =>
      client.UnaryEcho(
        { message: 'x' },
        new grpc.Metadata(),
        {
          deadline: Date.now() + 10_000,
          credentials: wimseCallCredentials({ ...workload(), authority: AUTHORITY }),
        },
        (error) => resolve(error ? error.code : grpc.status.OK),
      ),
    );
    expect(outcome).toBe(grpc.status.OK);
  });
});

describe('insecure channels', () => {
  it('cannot carry call credentials (grpc-js refuses the composition)', () => {
    expect(() =>
      grpc.credentials.combineChannelCredentials(
        grpc.credentials.createInsecure(),
        wimseCallCredentials({ ...workload(), authority: AUTHORITY }),
      ),
    ).toThrow();
  });

  it('are refused by the channel-credentials helpers', () => {
    const insecure = grpc.credentials.createInsecure();
    expect(() => wimseChannelCredentials(insecure, { ...workload(), authority: AUTHORITY })).toThrow(
      /insecure channel/,
    );
    expect(() => jwtSvidChannelCredentials(insecure, { token: 'x', authority: AUTHORITY })).toThrow(
      /insecure channel/,
    );
    expect(() => wimseChannelCredentials({} as never, { ...workload(), authority: AUTHORITY })).toThrow(
      /ChannelCredentials/,
    );
  });

  it('need the explicit opt-in for client interceptors', () => {
    expect(() => wimseClientInterceptor({ ...workload(), authority: AUTHORITY } as never)).toThrow(
      /allowInsecureChannel/,
    );
    expect(() =>
      jwtSvidClientInterceptor({ token: 'x', authority: AUTHORITY, allowInsecureChannel: 'yes' } as never),
    ).toThrow(/allowInsecureChannel/);
  });

  it('fail an interceptor call with UNAVAILABLE when the credential provider fails', async () => {
    const server = await startEchoServer([
      wimseServerInterceptor({ trust: td.bundleSource, audience: { authorities: [AUTHORITY] } }),
    ]);
    try {
      const client = echoClient(server.target, {
        interceptors: [
          jwtSvidClientInterceptor({
            authority: AUTHORITY,
            token: () => '',
            allowInsecureChannel: true,
          }),
        ],
      });
      expect(await unary(client)).toMatchObject({ code: grpc.status.UNAVAILABLE, replies: [] });
      expect(server.runs.unary).toBe(0);
    } finally {
      await server.close();
    }
  });
});

describe('client option validation', () => {
  it('needs exactly one of authority and audience, and a usable signer', () => {
    expect(() => wimseCallCredentials({ ...workload() } as never)).toThrow(/exactly one/);
    expect(() =>
      wimseCallCredentials({ ...workload(), authority: AUTHORITY, audience: 'x' } as never),
    ).toThrow(/exactly one/);
    expect(() => wimseCallCredentials({ ...workload(), authority: 'https://x' })).toThrow(TypeError);
    expect(() => wimseCallCredentials({ ...workload(), audience: '' })).toThrow(TypeError);
    expect(() =>
      wimseCallCredentials({ ...workload(), authority: AUTHORITY, transport: 'cookie' as never }),
    ).toThrow(/transport/);
    expect(() =>
      wimseCallCredentials({ wit: 'not a jws', privateKey: workload().privateKey, authority: AUTHORITY }),
    ).toThrow();
    expect(() => jwtSvidCallCredentials({ token: '', authority: AUTHORITY })).toThrow(/token/);
  });
});
