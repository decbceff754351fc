// One server variant of the gRPC benchmark, in its own process (started by run.mjs with the
// variant as argv[2] and the trust bundle in BENCH_GRPC_BUNDLE). Listens on 127.0.0.1, an
// ephemeral port, reported to the parent over IPC as { port }. Both variants serve the same
// unary method, echoing the request bytes; only the interceptor differs.
import * as grpc from '@grpc/grpc-js';
import { JwtBundle, StaticBundleSource } from '@wimse-auth/core';
import { wimseServerInterceptor } from '@wimse-auth/grpc';
import { AUTHORITY, BENCH_SERVICE, TRUST_DOMAIN } from './service.mjs';

const variant = process.argv[2];
const bundle = JSON.parse(process.env.BENCH_GRPC_BUNDLE ?? 'null');
if (!bundle) throw new Error('BENCH_GRPC_BUNDLE is required');

const interceptors =
  variant === 'wimse'
    ? [
        wimseServerInterceptor({
          trust: new StaticBundleSource([JwtBundle.fromSpiffeBundle(TRUST_DOMAIN, bundle)]),
          audience: { authorities: [AUTHORITY] },
          authorize: `spiffe://${TRUST_DOMAIN}/client`,
        }),
      ]
    : variant === 'plain'
      ? []
      : (() => {
          throw new Error(`unknown variant ${variant}`);
        })();

const server = new grpc.Server({ interceptors });
server.addService(BENCH_SERVICE, { Echo: (call, callback) => callback(null, call.request) });
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) throw error;
  process.send({ port });
});
process.on('disconnect', () => server.forceShutdown());
