// An Echo client whose every call carries the workload's WIT and a fresh proof for that call.
import * as grpc from '@grpc/grpc-js';
import { wimseCallCredentials } from '@wimse-auth/grpc';
import { Echo } from './proto.mjs';

export function createEchoClient({ target, ca, wit, privateKey, authority }) {
  // Call credentials ride on TLS only (grpc-js refuses them on insecure channels).
  const credentials = grpc.credentials.combineChannelCredentials(
    grpc.credentials.createSsl(ca),
    // The proof's audience is https://<authority>/echo.Echo/<Method>: the name the server
    // lists, whatever address this client dials (a pod IP, a load balancer).
    wimseCallCredentials({ wit, privateKey, authority }),
  );
  return new Echo(target, credentials);
}

const deadline = () => ({ deadline: Date.now() + 10_000 });

/** UnaryEcho: resolves `{ code, text }` (the reply, or the error code from `wimse-error`). */
export function unaryEcho(client, message) {
  return new Promise((resolve) => {
    client.UnaryEcho({ message }, new grpc.Metadata(), deadline(), (error, reply) => {
      if (error)
        resolve({ code: error.code, text: String(error.metadata.get('wimse-error')[0] ?? error.details) });
      else resolve({ code: grpc.status.OK, text: reply.message });
    });
  });
}

/** ServerStreamingEcho: resolves `{ code, text }` with every streamed message. */
export function streamingEcho(client, message) {
  return new Promise((resolve) => {
    const messages = [];
    const call = client.ServerStreamingEcho({ message }, new grpc.Metadata(), deadline());
    call.on('data', (reply) => messages.push(reply.message));
    call.on('error', () => {}); // the status carries the outcome
    call.on('status', (status) =>
      resolve({
        code: status.code,
        text:
          status.code === grpc.status.OK
            ? messages.join(' | ')
            : String(status.metadata.get('wimse-error')[0]),
      }),
    );
  });
}
