import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthenticatorOptions, createAuthenticator, isWimseError } from '@wimse-auth/core';

/** What the test server answers: the principal on success, the error code on failure. */
export interface ServerReply {
  id?: string;
  credential?: string;
  credentialForm?: string;
  accessToken?: string;
  code?: string;
}

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Headers of every request received, in order. */
  readonly received: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/**
 * A plain node:http server on 127.0.0.1 authenticating every request with the core
 * authenticator; its origin is the configured audience origin.
 */
export async function startServer(
  options: Omit<AuthenticatorOptions, 'audience'> & {
    audience?: AuthenticatorOptions['audience'];
  },
): Promise<TestServer> {
  const received: IncomingHttpHeaders[] = [];
  let authenticator: ReturnType<typeof createAuthenticator> | undefined;
  const server: Server = createServer((req, res) => {
    received.push(req.headers);
    authenticator!
      .authenticate({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headersDistinct })
      .then(
        (principal) => {
          const reply: ServerReply = {
            id: principal.id,
            credential: principal.credential,
            credentialForm: principal.credentialForm,
          };
          if (principal.accessToken !== undefined) reply.accessToken = principal.accessToken;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
        },
        (error: unknown) => {
          const code = isWimseError(error) ? error.code : 'internal';
          res
            .writeHead(isWimseError(error) ? error.status : 500, { 'content-type': 'application/json' })
            .end(JSON.stringify({ code }));
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { audience, ...rest } = options;
  authenticator = createAuthenticator({
    ...rest,
    audience: audience ?? { origins: [origin] },
  });
  return {
    origin,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
