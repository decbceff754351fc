// The Echo server: every call must come from spiffe://example.org/client, proven with a WIT +
// WPT addressed to https://<authority>/echo.Echo/<Method> (or a JWT-SVID for it).
import * as grpc from '@grpc/grpc-js';
import { getWorkload, wimseServerInterceptor } from '@wimse-auth/grpc';
import { Echo } from './proto.mjs';

export function createEchoServer({ trust, authorities, allowedId }) {
  const interceptor = wimseServerInterceptor({
    trust,
    audience: { authorities },
    authorize: allowedId,
    // Why a call was refused is safe to log: the code, never the metadata (the tokens).
    onRejected: (error, path) => console.log(`[server] ${path} refused: ${error.code}`),
  });
  const server = new grpc.Server({ interceptors: [interceptor] });
  server.addService(Echo.service, {
    UnaryEcho(call, callback) {
      callback(null, { message: `${call.request.message} (from ${getWorkload(call).id})` });
    },
    ServerStreamingEcho(call) {
      for (let i = 1; i <= 3; i++) call.write({ message: `${call.request.message} #${i}` });
      call.end();
    },
  });
  return server;
}
