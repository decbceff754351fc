// A real grpc-js Echo server on 127.0.0.1 and clients for it, shared by the package tests.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { getWorkload } from '../src/index.js';

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
const definition = protoLoader.loadSync(PROTO, { keepCase: true, defaults: true });
const loaded = grpc.loadPackageDefinition(definition) as unknown as {
  wimse: { test: { Echo: grpc.ServiceClientConstructor } };
};
export const Echo = loaded.wimse.test.Echo;

export interface EchoReply {
  message: string;
  caller: string;
}

export type EchoClient = grpc.Client & {
  UnaryEcho(
    request: { message: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, reply?: EchoReply) => void,
  ): grpc.ClientUnaryCall;
  ServerStreamingEcho(
    request: { message: string },
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientReadableStream<EchoReply>;
  BidiEcho(
    metadata: grpc.Metadata,
    options: grpc.CallOptions,
  ): grpc.ClientDuplexStream<{ message: string }, EchoReply>;
};

/** Method paths of the Echo service. */
export const UNARY = '/wimse.test.Echo/UnaryEcho';
export const STREAMING = '/wimse.test.Echo/ServerStreamingEcho';
export const BIDI = '/wimse.test.Echo/BidiEcho';

/** How many times each handler ran: a rejected call must never reach one. */
export interface HandlerRuns {
  unary: number;
  streaming: number;
  bidi: number;
}

export interface RunningServer {
  readonly port: number;
  readonly target: string;
  readonly runs: HandlerRuns;
  close(): Promise<void>;
}

/** Starts the Echo server with `interceptors` on 127.0.0.1 (insecure unless `credentials` is given). */
export async function startEchoServer(
  interceptors: grpc.ServerInterceptor[],
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<RunningServer> {
  const runs: HandlerRuns = { unary: 0, streaming: 0, bidi: 0 };
  const server = new grpc.Server({ interceptors });
  const callerOf = (call: { metadata: grpc.Metadata }) => getWorkload(call)?.id ?? '';
  server.addService(Echo.service, {
    UnaryEcho: (
      call: grpc.ServerUnaryCall<{ message: string }, EchoReply>,
      callback: grpc.sendUnaryData<EchoReply>,
    ) => {
      runs.unary++;
      callback(null, { message: call.request.message, caller: callerOf(call) });
    },
    ServerStreamingEcho: (call: grpc.ServerWritableStream<{ message: string }, EchoReply>) => {
      runs.streaming++;
      for (let i = 0; i < 3; i++)
        call.write({ message: `${call.request.message} ${i}`, caller: callerOf(call) });
      call.end();
    },
    BidiEcho: (call: grpc.ServerDuplexStream<{ message: string }, EchoReply>) => {
      runs.bidi++;
      call.on('data', (request: { message: string }) =>
        call.write({ message: request.message, caller: callerOf(call) }),
      );
      call.on('end', () => call.end());
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    port,
    target: `127.0.0.1:${port}`,
    runs,
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** An Echo client (insecure channel unless `credentials` is given). */
export function echoClient(
  target: string,
  options: grpc.ClientOptions = {},
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
): EchoClient {
  return new Echo(target, credentials, options) as unknown as EchoClient;
}

/** A deadline a few seconds out, so no call can hang a test. */
export function deadline(seconds = 10): grpc.CallOptions {
  return { deadline: Date.now() + seconds * 1000 };
}

export interface CallOutcome {
  readonly code: grpc.status;
  readonly details: string;
  readonly trailers: Record<string, string[]>;
  readonly replies: EchoReply[];
}

function trailersOf(metadata: grpc.Metadata | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const key of Object.keys(metadata?.getMap() ?? {})) {
    out[key] = (metadata?.get(key) ?? []).map(String);
  }
  return out;
}

/** A unary call's outcome, success or failure alike. */
export function unary(
  client: EchoClient,
  metadata = new grpc.Metadata(),
  message = 'hello',
): Promise<CallOutcome> {
  return new Promise((resolve) => {
    let trailers: grpc.Metadata | undefined;
    const call = client.UnaryEcho({ message }, metadata, deadline(), (error, reply) => {
      const finish = () =>
        resolve({
          code: error ? error.code : grpc.status.OK,
          details: error ? error.details : '',
          trailers: trailersOf(error ? error.metadata : trailers),
          replies: reply ? [reply] : [],
        });
      // The callback may run before the status event; the outcome is the same either way.
      setImmediate(finish);
    });
    call.on('status', (status) => {
      trailers = status.metadata;
    });
  });
}

/** A server-streaming call's outcome: every reply, then the status. */
export function streaming(
  client: EchoClient,
  metadata = new grpc.Metadata(),
  message = 'hello',
): Promise<CallOutcome> {
  return new Promise((resolve) => {
    const replies: EchoReply[] = [];
    const call = client.ServerStreamingEcho({ message }, metadata, deadline());
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', () => {}); // the status event carries the outcome
    call.on('status', (status) =>
      resolve({ code: status.code, details: status.details, trailers: trailersOf(status.metadata), replies }),
    );
  });
}

/** A bidi call that sends `messages` (immediately, before any reply) and collects replies. */
export function bidi(
  client: EchoClient,
  messages: string[],
  metadata = new grpc.Metadata(),
): Promise<CallOutcome> {
  return new Promise((resolve) => {
    const replies: EchoReply[] = [];
    const call = client.BidiEcho(metadata, deadline());
    call.on('data', (reply: EchoReply) => replies.push(reply));
    call.on('error', () => {});
    call.on('status', (status) =>
      resolve({ code: status.code, details: status.details, trailers: trailersOf(status.metadata), replies }),
    );
    for (const message of messages) call.write({ message });
    call.end();
  });
}

/** Metadata with the given pairs (a repeated key is sent several times). */
export function metadataOf(pairs: Record<string, string | string[]>): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(pairs)) {
    for (const one of Array.isArray(value) ? value : [value]) metadata.add(key, one);
  }
  return metadata;
}
