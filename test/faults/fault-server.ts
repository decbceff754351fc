// A real Express service behind the @wimse-auth/express adapter, with whatever authenticator
// options a fault needs (a failing trust source, a broken replay store, a moving clock).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthenticatorOptions, createAuthenticator, type WorkloadPrincipal } from '@wimse-auth/core';
import { wimse } from '@wimse-auth/express';
import express, { type Request } from 'express';
import { close, listen } from '../conformance/harness.js';
import { ISSUER, ORIGIN } from '../hostile/kit.js';

export interface FaultServer {
  /** Sends GET `path` with `headers`; rejects if the server takes longer than `timeoutMs`. */
  get(
    headers: Record<string, string>,
    path?: string,
    timeoutMs?: number,
  ): Promise<{ status: number; code: string | undefined; ms: number }>;
  close(): Promise<void>;
}

export async function startFaultServer(
  options: Omit<AuthenticatorOptions, 'audience'> & Partial<Pick<AuthenticatorOptions, 'audience'>>,
): Promise<FaultServer> {
  const authenticator = createAuthenticator({
    audience: { origins: [ORIGIN] },
    issuers: { 'example.org': [ISSUER] },
    ...options,
  });
  const app = express();
  app.get('/orders', wimse({ authenticator }), (req: Request & { wimse?: WorkloadPrincipal }, res) => {
    res.json({ id: req.wimse?.id });
  });
  const server: Server = await listen(createServer(app));
  const { port } = server.address() as AddressInfo;
  return {
    async get(headers, path = '/orders', timeoutMs = 10_000) {
      const started = performance.now();
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        headers,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = (await response.json()) as { code?: string };
      return { status: response.status, code: body.code, ms: performance.now() - started };
    },
    close: () => close(server),
  };
}
